// The herd's extra views (`herdViews`), on buckets made by hand.
import assert from "node:assert/strict";
import { test } from "node:test";
import { herdViews } from "./report.mjs";

const herd = { stormMs: 300, observeMs: 1000 }; // 3 slots of storm, 10 slots of window

test("herdViews: silence through the cooldown, the peak against the steady rate and over the recovery", () => {
  // 20 slots of 4 requests (the steady rate), the storm at slot 20: 2 slots
  // answered, 5 silent, then a recovery of 3 slots at 2, 1 at 8 (the peak)
  const buckets = [...Array(20).fill(4), 2, 2, 0, 0, 0, 0, 0, 2, 2, 8];
  const v = herdViews({ stormAt: 2000, bucketMs: 100, buckets }, herd);
  assert.equal(v.slots, 10);
  assert.equal(v.silent, 5);
  assert.equal(v.peakOverSteady, 8 / 4);
  // the recovery starts at the first request after the storm's end (slot 27), not at slot 23
  assert.equal(v.recoveryPeakOverMean, 8 / 4);
});

test("herdViews: a policy that never pauses is measured from the storm's end", () => {
  const buckets = [...Array(20).fill(5), 10, 10, 10, 1, 1, 1, 1, 1, 1, 13];
  const v = herdViews({ stormAt: 2000, bucketMs: 100, buckets }, herd);
  assert.equal(v.silent, 0);
  assert.equal(v.peakOverSteady, 13 / 5);
  assert.equal(v.recoveryPeakOverMean, 13 / (19 / 7));
});
