// One seed for every fast-check property in the suite, so `npm test` is reproducible and CI
// cannot go red by the luck of a draw. FC_SEED=<n> picks another seed; FC_SEED=random lets
// fast-check draw one per property (exploratory runs: keep any failure as a regression test,
// as test/storage/encoding.test.ts does for the one such a run found).
import fc from 'fast-check';

const raw = process.env['FC_SEED'];
if (raw !== 'random') {
  const seed = raw === undefined || raw === '' ? 20261122 : Number(raw);
  if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer or 'random', got '${raw}'`);
  fc.configureGlobal({ seed });
}
