import { type Knex, transact } from '@market/common';

/**
 * Where the bytes of the goods' files live, by key. Each upload is written under a key of its own and
 * never overwritten, so a download reading one file never sees part of the next; the listing's goods
 * row names the current key (GoodsRepository). Small on purpose: an S3-compatible bucket (PutObject,
 * GetObject, DeleteObject) can stand in for the MySQL table with nothing else changing.
 */
export interface GoodsStore {
  /** Stores the whole file under `key`, or nothing (a failed put leaves no part behind). */
  put(key: string, bytes: Buffer): Promise<void>;
  /** The file under `key`, or undefined when there is none. */
  read(key: string): Promise<Buffer | undefined>;
  /** Forgets the file under `key`; nothing happens when there is none. */
  remove(key: string): Promise<void>;
}

/** 1 MiB: sent as hex, a chunk's statement stays well within MySQL's default 16 MiB max_allowed_packet (64 MiB in MySQL 8.4). */
const CHUNK_BYTES = 1024 * 1024;

/** The default store: the listings database's `goods_files` table, a file in rows of CHUNK_BYTES. */
export class MysqlGoodsStore implements GoodsStore {
  constructor(private readonly db: Knex) {}

  async put(key: string, bytes: Buffer): Promise<void> {
    await withoutValues(
      transact(this.db, async (trx) => {
        for (let seq = 0; seq * CHUNK_BYTES < bytes.length; seq++) {
          await trx('goods_files').insert({ file_key: key, seq, data: bytes.subarray(seq * CHUNK_BYTES, (seq + 1) * CHUNK_BYTES) });
        }
      }),
    );
  }

  async read(key: string): Promise<Buffer | undefined> {
    const rows = (await withoutValues(this.db('goods_files').where({ file_key: key }).orderBy('seq').select('data'))) as { data: Buffer }[];
    return rows.length ? Buffer.concat(rows.map((row) => row.data)) : undefined;
  }

  async remove(key: string): Promise<void> {
    await withoutValues(this.db('goods_files').where({ file_key: key }).delete());
  }
}

/**
 * knex writes a failed statement into its error's message with every value inlined, and a 5xx is logged
 * with its message: a statement that carries goods must fail without them. What is kept (the MySQL error
 * code) is what the retry and 503 decisions read.
 */
export async function withoutValues<T>(query: PromiseLike<T>): Promise<T> {
  try {
    return await query;
  } catch (err) {
    const { code, errno, name } = err as { code?: unknown; errno?: unknown; name?: unknown };
    const redacted = new Error(`a statement on the goods failed (${typeof code === 'string' ? code : typeof name === 'string' ? name : 'unknown error'}); its values are not logged`);
    Object.assign(redacted, { code, errno, name: typeof name === 'string' && name !== 'Error' ? name : 'GoodsStorageError' });
    throw redacted;
  }
}
