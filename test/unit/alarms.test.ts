import { describe, expect, it } from "vitest";
import { AlarmScheduler, retryFailedJobMs, type AlarmJob, type AlarmStorage } from "../../src/mechanisms/alarms.ts";

function makeStorage(initial: number | null = null) {
  const storage = { alarm: initial, sets: [] as number[] };
  const api: AlarmStorage = {
    getAlarm: async () => storage.alarm,
    setAlarm: async (at) => {
      storage.alarm = at;
      storage.sets.push(at);
    },
  };
  return { storage, api };
}

const job = (name: string, run: AlarmJob["run"]): AlarmJob => ({ name, run });

describe("one alarm, many jobs", () => {
  it("arms for the soonest job", async () => {
    const { storage, api } = makeStorage();
    const scheduler = new AlarmScheduler(api, [job("a", () => 5_000), job("b", () => 3_000), job("c", () => null)], () => {});
    await scheduler.run(1_000);
    expect(storage.alarm).toBe(3_000);
  });

  it("leaves no alarm when no job needs one", async () => {
    const { storage, api } = makeStorage();
    await new AlarmScheduler(api, [job("a", () => null)], () => {}).run(1_000);
    expect(storage.alarm).toBeNull();
  });

  it("keeps the sooner time when two jobs arm at once", async () => {
    const { storage, api } = makeStorage();
    const scheduler = new AlarmScheduler(api, [], () => {});
    await Promise.all([scheduler.armBy(1_000), scheduler.armBy(5_000)]);
    expect(storage.alarm).toBe(1_000);
  });

  it("does not hold later calls behind one left waiting (a cancelled request's)", async () => {
    const { storage, api } = makeStorage();
    let first = true;
    const stalling: AlarmStorage = {
      getAlarm: () => (first ? ((first = false), new Promise<number | null>(() => {})) : api.getAlarm()),
      setAlarm: api.setAlarm,
    };
    const scheduler = new AlarmScheduler(stalling, [], () => {});
    void scheduler.armBy(1_000);
    const later = await Promise.race([scheduler.armBy(2_000).then(() => "armed"), new Promise((resolve) => setTimeout(() => resolve("held"), 100))]);
    expect(later).toBe("armed");
    expect(storage.alarm).toBe(2_000);
  });

  it("only moves the alarm sooner", async () => {
    const { storage, api } = makeStorage(2_000);
    const scheduler = new AlarmScheduler(api, [], () => {});
    await scheduler.armBy(5_000);
    expect(storage.alarm).toBe(2_000);
    await scheduler.armBy(1_500);
    expect(storage.alarm).toBe(1_500);
  });

  it("keeps a deadline armed while a run was in progress", async () => {
    const { storage, api } = makeStorage();
    let scheduler: AlarmScheduler;
    scheduler = new AlarmScheduler(
      api,
      [
        job("slow", async () => {
          // A socket accepted while the job awaits arms its login deadline.
          await scheduler.armBy(2_000);
          return 60_000;
        }),
      ],
      () => {},
    );
    await scheduler.run(1_000);
    expect(storage.alarm).toBe(2_000);
  });

  it("runs the other jobs when one fails, logs it and tries it again later", async () => {
    const { storage, api } = makeStorage();
    const failures: string[] = [];
    const ran: string[] = [];
    const scheduler = new AlarmScheduler(
      api,
      [
        job("broken", () => {
          throw new Error("app deleted");
        }),
        job("fine", () => {
          ran.push("fine");
          return 10 * retryFailedJobMs;
        }),
      ],
      (name) => failures.push(name),
    );
    await scheduler.run(1_000);
    expect(failures).toEqual(["broken"]);
    expect(ran).toEqual(["fine"]);
    expect(storage.alarm).toBe(1_000 + retryFailedJobMs);
  });

  it("never arms in the past", async () => {
    const { storage, api } = makeStorage();
    await new AlarmScheduler(api, [job("late", () => 10)], () => {}).run(1_000);
    expect(storage.alarm).toBe(1_000);
  });
});
