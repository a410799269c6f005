import { eventTablesMigrations, type Migration } from '@market/common';

export const migrations: Migration[] = [
  ...eventTablesMigrations,
  {
    name: '001_listings',
    async up(db) {
      await db.schema.createTable('listings', (t) => {
        t.uuid('id').primary();
        t.uuid('seller_id').notNullable();
        t.string('title', 200).notNullable();
        t.text('description').notNullable();
        t.integer('price_cents').unsigned().notNullable();
        t.specificType('currency', 'CHAR(3)').notNullable();
        t.enum('status', ['available', 'reserved', 'sold']).notNullable();
        // Which order holds the reservation: every later transition is conditional on it.
        t.uuid('reserved_order_id').nullable();
        t.integer('version').unsigned().notNullable();
        t.datetime('created_at', { precision: 3 }).notNullable();
        t.datetime('updated_at', { precision: 3 }).notNullable();
        t.index(['status', 'created_at']);
        t.index(['seller_id', 'status']);
        t.index(['created_at']);
      });
      // Sellers whose account is gone: a listing of theirs released from a reservation is withdrawn.
      await db.schema.createTable('deleted_sellers', (t) => {
        t.uuid('seller_id').primary();
        t.datetime('deleted_at', { precision: 3 }).notNullable();
      });
    },
    async down(db) {
      await db.schema.dropTable('deleted_sellers');
      await db.schema.dropTable('listings');
    },
  },
  {
    // The goods a seller attaches, in tables of their own: no listing query, reply or event reads them.
    name: '002_listing_goods',
    async up(db) {
      await db.schema.createTable('listing_goods', (t) => {
        t.uuid('listing_id').primary();
        // At most 10000 characters: up to 40000 bytes of utf8mb4, within TEXT's 65535.
        t.text('text').nullable();
        // The file's bytes are in the GoodsStore under file_key; a new upload gets a new key.
        t.uuid('file_key').nullable();
        t.string('file_name', 255).nullable();
        t.integer('file_size').unsigned().nullable();
        t.string('file_content_type', 255).nullable();
        t.datetime('updated_at', { precision: 3 }).notNullable();
      });
      // MysqlGoodsStore: a file in chunks of 1 MiB. One 10 MB row would not fit MySQL's default
      // max_allowed_packet once escaped (a Buffer is sent as hex, twice its size), nor InnoDB's bound of a
      // tenth of the redo log for one row's BLOBs.
      await db.schema.createTable('goods_files', (t) => {
        t.uuid('file_key').notNullable();
        t.integer('seq').unsigned().notNullable();
        t.specificType('data', 'MEDIUMBLOB').notNullable();
        t.primary(['file_key', 'seq']);
      });
    },
    async down(db) {
      await db.schema.dropTable('goods_files');
      await db.schema.dropTable('listing_goods');
    },
  },
];
