import type { contracts } from '@market/common';
import type { GoodsRecord } from '../data-access/goods-repository';

/** The contract's shape: what is attached, without where the bytes are kept. */
export const publicGoods = (goods: GoodsRecord): contracts.Goods => ({
  ...(goods.text !== null ? { text: goods.text } : {}),
  ...(goods.file ? { file: { name: goods.file.name, size: goods.file.size, contentType: goods.file.contentType } } : {}),
});
