// Synthetic sign-ins for the benchmarks: a month of ordinary activity for `accounts` people, with
// typos, brute-force bursts, password sprays and far-away successes mixed in. Deterministic.
export function* syntheticSignins({ total, accounts }) {
  const TOTAL = total;
  const ACCOUNTS = accounts;
  let seed = 42;
  function rand() {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  const CITIES = [
    ['FR', 'Paris', 48.8566, 2.3522], ['FR', 'Lyon', 45.764, 4.8357], ['FR', 'Marseille', 43.2965, 5.3698],
    ['FR', 'Lille', 50.6292, 3.0573], ['BE', 'Brussels', 50.8503, 4.3517], ['DE', 'Berlin', 52.52, 13.405],
    ['ES', 'Madrid', 40.4168, -3.7038], ['IT', 'Rome', 41.9028, 12.4964],
  ];
  const FAR = [['RU', 'Moscow', 55.7558, 37.6173], ['US', 'New York', 40.7128, -74.006], ['BR', 'São Paulo', -23.55, -46.63]];
  const homes = Array.from({ length: ACCOUNTS }, () => CITIES[Math.floor(rand() * CITIES.length)]);
  const START = Date.parse('2025-01-01T00:00:00Z');
  const STEP = Math.round((30 * 86_400_000) / TOTAL); // a month of event time

  // Mostly ordinary sign-ins; a few typos, a brute-force burst, sprays, far-away successes.
  function* events() {
    let i = 0;
    let t = START;
    while (i < TOTAL) {
      t += STEP;
      const r = rand();
      const a = Math.floor(rand() * ACCOUNTS);
      const account = `user${a}@party.example`;
      if (r < 0.0005 && i + 12 < TOTAL) {
        for (let k = 0; k < 12; k++, i++) yield signin(`203.0.113.${k}`, account, t + k * 20_000, 'failure', FAR[0]);
        continue;
      }
      if (r < 0.001 && i + 15 < TOTAL) {
        for (let k = 0; k < 15; k++, i++) yield signin('198.51.100.23', `user${(a + k * 7) % ACCOUNTS}@party.example`, t + k * 30_000, 'failure', FAR[1]);
        continue;
      }
      const far = r < 0.0015;
      const outcome = rand() < 0.03 ? 'failure' : 'success';
      const place = far ? FAR[Math.floor(rand() * FAR.length)] : homes[a];
      i++;
      yield signin(`192.0.2.${a % 250}`, account, t, outcome, place);
    }
  }

  let n = 0;
  function signin(ip, account, time, outcome, [country, city, lat, lon]) {
    n++;
    return {
      id: `bench:${n}`, kind: 'signin', time: new Date(time).toISOString(), provider: 'microsoft-365', source: 'bench',
      account, ip, geo: { country, city, lat, lon, source: 'event' }, outcome,
      details: { client: 'browser', interactive: true },
    };
  }


  yield* events();
}

export const SYNTHETIC_START = Date.parse('2025-01-01T00:00:00Z');
export function syntheticStep(total) {
  return Math.round((30 * 86_400_000) / total);
}
