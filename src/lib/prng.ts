// A small seeded PRNG (xoshiro128**), so every random choice in a core can be replayed
// from one seed in simulation. fork() hands each component its own independent stream.

export class Prng {
  private s: Uint32Array;

  private constructor(s: Uint32Array) {
    this.s = s;
  }

  static fromSeed(seed: number): Prng {
    // splitmix32 expands one number into a non-zero 128-bit state.
    const s = new Uint32Array(4);
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (s[0]! === 0 && s[1]! === 0 && s[2]! === 0 && s[3]! === 0) s[0] = 1;
    return new Prng(s);
  }

  /** Seeded from the OS, for production shells; cores still receive it by injection. */
  static fromEntropy(): Prng {
    return Prng.fromSeed(crypto.getRandomValues(new Uint32Array(1))[0]!);
  }

  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  fork(): Prng {
    return Prng.fromSeed(this.nextU32());
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
