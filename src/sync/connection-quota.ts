/**
 * Open sync connections per credential (an API token, or a JWT subject), bounded: one leaked or
 * hostile token opening sockets in a loop cannot take every file descriptor and every room's
 * memory from the other users. A stock client refused at the cap (close 4429) does not retry.
 */
export class ConnectionQuota {
  private readonly open = new Map<string, number>();

  constructor(private readonly maxPerCredential: number) {}

  get limit(): number {
    return this.maxPerCredential;
  }

  /** Takes one place for the credential; answers how to give it back, or undefined at the cap. */
  acquire(credentialKey: string): (() => void) | undefined {
    const count = this.open.get(credentialKey) ?? 0;
    if (count >= this.maxPerCredential) return undefined;
    this.open.set(credentialKey, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(credentialKey) ?? 1) - 1;
      if (left === 0) this.open.delete(credentialKey);
      else this.open.set(credentialKey, left);
    };
  }

  /** Connections the credential holds now. */
  count(credentialKey: string): number {
    return this.open.get(credentialKey) ?? 0;
  }
}
