/** A small event emitter: handlers receive `{name, data}`, as @tencentcloud/chat's do. */
export type Handler = (event: { name: string; data: unknown }) => void;

export class Emitter {
  private handlers = new Map<string, Set<Handler>>();

  on(name: string, handler: Handler): void {
    let set = this.handlers.get(name);
    if (!set) this.handlers.set(name, (set = new Set()));
    set.add(handler);
  }

  off(name: string, handler: Handler): void {
    this.handlers.get(name)?.delete(handler);
  }

  emit(name: string, data: unknown): void {
    for (const handler of [...(this.handlers.get(name) ?? [])]) {
      try {
        handler({ name, data });
      } catch (error) {
        // A failing handler must not break the SDK or the other handlers.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
