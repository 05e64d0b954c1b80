// Scoring the test range with the stored models, as a batch job would: for every model of a published version,
// the one-step forecasts and bands over the test week, given the actual values before each point. A value
// outside its band is flagged; flags of one series less than ALERT_GAP_HOURS apart make one alert (a spike stays
// in an AR(8) model's lags for 8 hours, and may be flagged again while it does). An injected anomaly is detected
// when an alert opens at most DETECT_WITHIN_HOURS after it. An alert is then one of: the onset of an injected
// anomaly; a repeat of an injected level shift (the model, trained before the shift, keeps seeing the new level
// as anomalous until it is retrained); or false.

export const ALERT_GAP_HOURS = 8;
export const DETECT_WITHIN_HOURS = 2;

const HOUR = 3_600_000;

/**
 * Scores every model of `group` against the fleet's values; returns the alerts (with the flagged points of each),
 * the flags counted, and the injected anomalies of the test range that the models could see, each marked detected
 * or not.
 */
export function scoreFleet({ family, group, fleet, testFrom }) {
  const testStart = Math.round((testFrom - fleet.start) / HOUR);
  const byId = new Map(fleet.databases.flatMap((db) => [...db.metrics].map(([metric, values]) => [`${db.name}/${metric}`, values])));
  const out = { predicted: new Float64Array(fleet.hours), lower: new Float64Array(fleet.hours), upper: new Float64Array(fleet.hours) };
  const alerts = [];
  const alertsBySeries = new Map();
  let flags = 0;
  for (const id of group.ids) {
    const values = byId.get(id);
    const train = values.subarray(0, testStart);
    const test = values.subarray(testStart);
    const { predicted, lower, upper } = family.predict(group.params(id), train, test, { out });
    let alert;
    for (let j = 0; j < test.length; j++) {
      if (test[j] >= lower[j] && test[j] <= upper[j]) continue;
      flags++;
      const point = { hour: testStart + j, time: fleet.times[testStart + j], value: test[j], predicted: predicted[j], lower: lower[j], upper: upper[j] };
      if (alert === undefined || point.hour - alert.points.at(-1).hour > ALERT_GAP_HOURS) {
        alert = { id, points: [] };
        alerts.push(alert);
        if (!alertsBySeries.has(id)) alertsBySeries.set(id, []);
        alertsBySeries.get(id).push(alert);
      }
      alert.points.push(point);
    }
  }

  const injectedByAlert = new Map();
  const events = fleet.injected.filter((e) => e.hour >= testStart && group.has(e.id)).map((e) => ({ ...e }));
  for (const event of events) {
    const opened = (alertsBySeries.get(event.id) ?? []).find((a) => a.points[0].hour >= event.hour && a.points[0].hour <= event.hour + DETECT_WITHIN_HOURS);
    event.detected = opened !== undefined;
    if (opened !== undefined && !injectedByAlert.has(opened)) injectedByAlert.set(opened, event);
  }
  const shifts = new Map(fleet.injected.filter((e) => e.kind === 'shift').map((e) => [e.id, e.hour]));
  for (const alert of alerts) {
    alert.injected = injectedByAlert.get(alert);
    alert.cause = alert.injected !== undefined ? 'onset' : shifts.has(alert.id) && alert.points[0].hour > shifts.get(alert.id) ? 'repeat' : 'false';
  }
  return { alerts, flags, events };
}

/** Precision and recall on the injected anomalies, overall and by kind. */
export function detectionFigures({ alerts, events }) {
  const share = (a, b) => (b === 0 ? NaN : a / b);
  const kinds = ['spike', 'shift'].map((kind) => {
    const of = events.filter((e) => e.kind === kind);
    return { kind, injected: of.length, detected: of.filter((e) => e.detected).length };
  });
  const detected = events.filter((e) => e.detected).length;
  const cause = (name) => alerts.filter((a) => a.cause === name).length;
  const [onset, repeat, false_] = [cause('onset'), cause('repeat'), cause('false')];
  return { injected: events.length, detected, recall: share(detected, events.length), kinds, alerts: alerts.length, onset, repeat, false: false_, precision: share(onset + repeat, alerts.length) };
}

/** A few alerts to show: the largest onsets of each kind of injected anomaly, of repeats and of false ones. */
export function sampleAlerts(alerts, perKind = 3) {
  const size = (a) => {
    const p = a.points[0];
    return Math.abs(p.value - p.predicted) / ((p.upper - p.lower) / 2);
  };
  const pick = (filter, n) => alerts.filter(filter).sort((a, b) => size(b) - size(a)).slice(0, n);
  return [
    ...pick((a) => a.injected?.kind === 'spike', perKind),
    ...pick((a) => a.injected?.kind === 'shift', perKind),
    ...pick((a) => a.cause === 'repeat', 1),
    ...pick((a) => a.cause === 'false', 2),
  ];
}
