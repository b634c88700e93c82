// Getting the resident's attention for a print confirmation. In Electron the main process raises
// the window and shows a system notification; in a browser tab only the page can: the
// Notification API (when the resident allowed it) and a blinking tab title.

/** Draws attention to the app until settled. */
export class Attention {
  private timer: ReturnType<typeof setInterval> | null = null;
  private baseTitle = document.title;

  constructor(private readonly webMode: boolean) {}

  /** True when a browser could ask for notification permission (web mode, not yet decided). */
  get canAskPermission(): boolean {
    return this.webMode && 'Notification' in window && Notification.permission === 'default';
  }

  /** Asks the browser for notification permission (must run from a click). */
  async askPermission(): Promise<void> {
    await Notification.requestPermission();
  }

  /** The page title when nothing is flashing (follows the language). */
  setTitle(title: string): void {
    this.baseTitle = title;
    if (!this.timer) document.title = title;
  }

  /** Notifies (web mode) and flashes the title with `flash` until settle(). */
  raise(title: string, body: string, flash: string): void {
    if (this.webMode && 'Notification' in window && Notification.permission === 'granted') new Notification(title, { body });
    if (this.timer) clearInterval(this.timer);
    let on = false;
    this.timer = setInterval(() => {
      on = !on;
      document.title = on ? `${flash} ${this.baseTitle}` : this.baseTitle;
    }, 1000);
  }

  /** Stops the title flash. */
  settle(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    document.title = this.baseTitle;
  }
}
