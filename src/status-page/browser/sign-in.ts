import { byId, setText } from './dom.js';

/**
 * The key form. The key is kept in sessionStorage: it lasts as long as the tab, is not shared
 * with other tabs, and is gone when the tab closes; the page never puts it in a URL.
 */

const KEY_ITEM = 'hookrelay.apiKey';

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY_ITEM);
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY_ITEM);
}

export class SignIn {
  private readonly section = byId('sign-in', HTMLElement);
  private readonly form = byId('key-form', HTMLFormElement);
  private readonly input = byId('key-input', HTMLInputElement);
  private readonly button = byId('key-submit', HTMLButtonElement);
  private readonly error = byId('key-error', HTMLParagraphElement);

  /** `onKey` tries a key and answers whether the relay took it. */
  constructor(onKey: (key: string) => Promise<boolean>) {
    this.form.addEventListener('submit', (submitted) => {
      submitted.preventDefault();
      void this.submit(onKey);
    });
  }

  show(problem: string): void {
    this.section.hidden = false;
    setText(this.error, problem);
    this.input.value = '';
    this.input.focus();
  }

  hide(): void {
    this.section.hidden = true;
  }

  private async submit(onKey: (key: string) => Promise<boolean>): Promise<void> {
    const key = this.input.value.trim();
    // The relay reads the key as the one word after "Apikey".
    if (!/^\S+$/.test(key)) {
      setText(this.error, 'Enter the key as one word, without spaces.');
      return;
    }
    sessionStorage.setItem(KEY_ITEM, key);
    setText(this.error, '');
    this.button.disabled = true;
    setText(this.button, 'Checking…');
    try {
      if (await onKey(key)) this.hide();
    } finally {
      this.button.disabled = false;
      setText(this.button, 'Show status');
    }
  }
}
