/**
 * Loop detection for the agent's think→act→observe loop. Every tool call is
 * hashed (SHA-256 of its name and stable-JSON arguments) and so is its result:
 *
 *   same call, same result           warn at 3, stop at 5
 *   same tool, same result, other args   warn at 4, stop at 6
 *   read-only calls in a row         warn at readOnlyWarn, stop at readOnlyStop
 *
 * A warning goes to the model as a system note; a stop ends the run.
 */
import { createHash } from 'node:crypto';
import { stableJson } from './stable_json.js';

export interface LoopLimits {
  sameCallWarn: number;
  sameCallStop: number;
  sameResultWarn: number;
  sameResultStop: number;
  readOnlyWarn: number;
  readOnlyStop: number;
}

export const DEFAULT_LOOP_LIMITS: LoopLimits = {
  sameCallWarn: 3, sameCallStop: 5, sameResultWarn: 4, sameResultStop: 6, readOnlyWarn: 12, readOnlyStop: 20,
};

export type LoopVerdict =
  | { action: 'ok' }
  | { action: 'warn' | 'stop'; rule: 'same_call' | 'same_result' | 'read_only_streak'; message: string };

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

export class LoopDetector {
  private readonly callCounts = new Map<string, number>();
  private readonly resultCounts = new Map<string, { count: number; args: Set<string> }>();
  private readOnlyStreak = 0;

  constructor(private readonly limits: LoopLimits = DEFAULT_LOOP_LIMITS) {}

  /** Records one finished call; returns the strongest verdict its rules give. */
  record(name: string, args: unknown, result: string, readOnly: boolean): LoopVerdict {
    const argsHash = sha(stableJson(args));
    const resultHash = sha(result);
    const callKey = `${name}\u0000${argsHash}\u0000${resultHash}`;
    const sameCall = (this.callCounts.get(callKey) ?? 0) + 1;
    this.callCounts.set(callKey, sameCall);

    const resultKey = `${name}\u0000${resultHash}`;
    const entry = this.resultCounts.get(resultKey) ?? { count: 0, args: new Set<string>() };
    entry.args.add(argsHash);
    entry.count++;
    this.resultCounts.set(resultKey, entry);
    // Only counts when the arguments varied: the same call is the rule above.
    const sameResult = entry.args.size > 1 ? entry.count : 0;

    this.readOnlyStreak = readOnly ? this.readOnlyStreak + 1 : 0;
    const l = this.limits;
    const verdicts: LoopVerdict[] = [];
    if (sameCall >= l.sameCallWarn) {
      verdicts.push({
        action: sameCall >= l.sameCallStop ? 'stop' : 'warn', rule: 'same_call',
        message: `${name} was called ${sameCall} times with the same arguments and returned the same result`,
      });
    }
    if (sameResult >= l.sameResultWarn) {
      verdicts.push({
        action: sameResult >= l.sameResultStop ? 'stop' : 'warn', rule: 'same_result',
        message: `${name} returned the same result ${sameResult} times for different arguments`,
      });
    }
    if (this.readOnlyStreak >= l.readOnlyWarn) {
      verdicts.push({
        action: this.readOnlyStreak >= l.readOnlyStop ? 'stop' : 'warn', rule: 'read_only_streak',
        message: `${this.readOnlyStreak} read-only tool calls in a row without acting or answering`,
      });
    }
    return verdicts.find((v) => v.action === 'stop') ?? verdicts[0] ?? { action: 'ok' };
  }
}
