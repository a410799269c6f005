import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { CurrencyCode, Goods } from '../api';
import { fileProblem, MAX_GOODS_TEXT } from '../goods';
import { CURRENCY_CODES, DEFAULT_CURRENCY, parsePrice } from '../money';

export interface ListingFormValues {
  title: string;
  description: string;
  priceCents: number;
  currency: CurrencyCode;
  goodsText: string;
  file: File | null;
}

export interface ListingFormProps {
  initial?: { title: string; description: string; priceText: string; currency: CurrencyCode; goodsText: string };
  /** An existing listing keeps its currency. */
  currencyLocked?: boolean;
  currentFile?: Goods['file'];
  submitLabel: string;
  busy: boolean;
  onSubmit(values: ListingFormValues): void;
  /** Shown between the fields and the buttons (the page's errors). */
  children?: ComponentChildren;
  /** More buttons beside the submit button. */
  extraButtons?: ComponentChildren;
}

/** Title, description, price, currency and the goods: the Sell form and the edit form. */
export function ListingForm({ initial, currencyLocked = false, currentFile, submitLabel, busy, onSubmit, children, extraButtons }: ListingFormProps) {
  const [title, setTitle] = useState(initial?.title ?? '');
  const [description, setDescription] = useState(initial?.description ?? '');
  const [priceText, setPriceText] = useState(initial?.priceText ?? '');
  const [currency, setCurrency] = useState<CurrencyCode>(initial?.currency ?? DEFAULT_CURRENCY);
  const [goodsText, setGoodsText] = useState(initial?.goodsText ?? '');
  const [file, setFile] = useState<File | null>(null);
  const [invalid, setInvalid] = useState<{ field: 'price' | 'file'; message: string } | null>(null);

  function submit(event: Event) {
    event.preventDefault();
    const price = parsePrice(priceText, currency);
    if (typeof price === 'string') return setInvalid({ field: 'price', message: price });
    const tooBig = file ? fileProblem(file) : undefined;
    if (tooBig) return setInvalid({ field: 'file', message: tooBig });
    setInvalid(null);
    onSubmit({ title, description, priceCents: price, currency, goodsText, file });
  }

  return (
    <form class="form" onSubmit={submit} noValidate={false}>
      <div class="field">
        <label for="title">Title</label>
        <input id="title" name="title" required maxLength={200} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
      </div>
      <div class="field">
        <label for="description">Description</label>
        <textarea id="description" name="description" rows={4} maxLength={5000} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
      </div>
      <div class="field-row">
        <div class="field">
          <label for="price">Price</label>
          <input
            id="price"
            name="price"
            required
            inputMode="decimal"
            autoComplete="off"
            value={priceText}
            aria-invalid={invalid?.field === 'price' ? 'true' : undefined}
            aria-describedby={invalid?.field === 'price' ? 'price-error' : 'price-hint'}
            onInput={(e) => setPriceText(e.currentTarget.value)}
          />
          {invalid?.field === 'price' ? (
            <p id="price-error" class="field-error" role="alert">
              {invalid.message}
            </p>
          ) : (
            <p id="price-hint" class="hint">
              In {currency.toUpperCase()}, e.g. {currency === 'jpy' || currency === 'krw' ? '2500' : '12.50'}
            </p>
          )}
        </div>
        <div class="field">
          <label for="currency">Currency</label>
          <select id="currency" name="currency" value={currency} disabled={currencyLocked} onChange={(e) => setCurrency(e.currentTarget.value as CurrencyCode)}>
            {CURRENCY_CODES.map((code) => (
              <option key={code} value={code}>
                {code.toUpperCase()}
              </option>
            ))}
          </select>
        </div>
      </div>
      <fieldset>
        <legend>The goods (only the buyer gets them, once paid)</legend>
        <div class="field">
          <label for="goods-text">Goods text</label>
          <textarea
            id="goods-text"
            name="goodsText"
            rows={3}
            maxLength={MAX_GOODS_TEXT}
            aria-describedby="goods-text-hint"
            value={goodsText}
            onInput={(e) => setGoodsText(e.currentTarget.value)}
          />
          <p id="goods-text-hint" class="hint">
            A ticket code, a licence key, a link…
          </p>
        </div>
        <div class="field">
          <label for="goods-file">Goods file</label>
          <input
            id="goods-file"
            name="goodsFile"
            type="file"
            aria-invalid={invalid?.field === 'file' ? 'true' : undefined}
            aria-describedby={invalid?.field === 'file' ? 'file-error' : 'file-hint'}
            onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
          />
          {invalid?.field === 'file' ? (
            <p id="file-error" class="field-error" role="alert">
              {invalid.message}
            </p>
          ) : (
            <p id="file-hint" class="hint">
              {currentFile ? `Now: ${currentFile.name}. Choose a file to replace it. ` : ''}Up to 10 MB.
            </p>
          )}
        </div>
      </fieldset>
      {children}
      <div class="buttons">
        <button type="submit" class="primary" disabled={busy}>
          {submitLabel}
        </button>
        {extraButtons}
      </div>
    </form>
  );
}
