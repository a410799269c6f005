import type { Knex } from '@market/common';
import { withoutValues } from './goods-store';

interface GoodsRow {
  listing_id: string;
  text: string | null;
  file_key: string | null;
  file_name: string | null;
  file_size: number | null;
  file_content_type: string | null;
}

export interface StoredFile {
  /** Where its bytes are in the GoodsStore. */
  key: string;
  name: string;
  size: number;
  contentType: string;
}

/** A listing's goods as stored: the file with the key of its bytes, which never leaves the service. */
export interface GoodsRecord {
  text: string | null;
  file: StoredFile | null;
}

const NONE: GoodsRecord = { text: null, file: null };

const toRecord = (row: GoodsRow): GoodsRecord => ({
  text: row.text,
  file:
    row.file_key !== null && row.file_name !== null && row.file_size !== null && row.file_content_type !== null
      ? { key: row.file_key, name: row.file_name, size: row.file_size, contentType: row.file_content_type }
      : null,
});

/** `listing_goods`: one row per listing that has goods. Every statement that carries them fails without them (withoutValues). */
export class GoodsRepository {
  constructor(private readonly db: Knex) {}

  async find(listingId: string, trx: Knex = this.db): Promise<GoodsRecord> {
    const row = (await withoutValues(trx('listing_goods').where({ listing_id: listingId }).first())) as GoodsRow | undefined;
    return row ? toRecord(row) : NONE;
  }

  async putText(listingId: string, text: string, trx: Knex): Promise<void> {
    const now = new Date();
    await withoutValues(trx('listing_goods').insert({ listing_id: listingId, text, updated_at: now }).onConflict('listing_id').merge(['text', 'updated_at']));
  }

  async putFile(listingId: string, file: StoredFile, trx: Knex): Promise<void> {
    const columns = { file_key: file.key, file_name: file.name, file_size: file.size, file_content_type: file.contentType, updated_at: new Date() };
    await withoutValues(
      trx('listing_goods')
        .insert({ listing_id: listingId, ...columns })
        .onConflict('listing_id')
        .merge(Object.keys(columns)),
    );
  }

  /** Forgets the listing's goods; returns the key of its file's bytes, for the store to forget them too. */
  async remove(listingId: string, trx: Knex): Promise<string | undefined> {
    const { file } = await this.find(listingId, trx);
    await withoutValues(trx('listing_goods').where({ listing_id: listingId }).delete());
    return file?.key;
  }
}
