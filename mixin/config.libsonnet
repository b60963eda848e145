// The settings a user overrides instead of editing the rules or the
// dashboard: (import 'mixin.libsonnet') + { _config+:: { ... } }.
// mixin/README.md lists every field with its default.
{
  _config+:: {
    // The account series: every vocode_ series that is not vocode_exporter_,
    // scraped from /metrics or, in probe mode, from /probe targets.
    vocodeSelector: 'job="vocode"',
    // The exporter's own target: its `up` and the vocode_exporter_ series
    // (request budget, build info). With /metrics that is the accounts' job
    // itself; in probe mode a job of its own, hence both names.
    vocodeExporterSelector: 'job=~"vocode|vocode_exporter"',

    // With showMultiCluster, the dashboard gets a cluster variable that
    // every query filters on, and every rule keeps clusterLabel in its
    // `by` and `on` lists, so that equal job and instance names in two
    // clusters stay apart.
    clusterLabel: 'cluster',
    showMultiCluster: false,

    // Where each alert's runbook_url points: the alert's name, in lower
    // case, is the anchor.
    runbookURLBase: 'https://github.com/vocode-exporter/vocode_exporter/blob/main/alerts/README.md#',

    // Alert thresholds and `for` durations. Shares are fractions (0.1 is
    // 10%); latencies are seconds.
    twilioConnectionsMissingFor: '15m',
    twilioConnectionLostFor: '5m',
    twilioSteeringPoolEmptyFor: '15m',
    scrapeFailingFor: '15m',
    apiErrorShareThreshold: 0.1,
    apiErrorsHighFor: '15m',
    apiRateLimitedFor: '15m',
    apiLatencyP95Threshold: 2,
    apiLatencyHighFor: '15m',
    usageNearLimitShare: 0.9,
    usageNearLimitFor: '15m',
    usageLimitReachedFor: '5m',
    numberConnectionMissingFor: '10m',
    inboundNumberWithoutAgentFor: '30m',
    connectionsBelowExpectedFor: '15m',
    collectorFailingFor: '15m',
    // The calls alerts ignore an account with fewer finished calls in the
    // window than this, so that one failed call of a quiet account does
    // not page anyone.
    callsMinFinished: 10,
    callErrorShareThreshold: 0.1,
    callErrorsHighFor: '10m',
    callsNotConnectingShareThreshold: 0.3,
    callsNotConnectingFor: '15m',
    warmTransfersPoolShareThreshold: 0.8,
    warmTransfersNearPoolLimitFor: '5m',
    callsTruncatedFor: '30m',
    // Short calls (vocode_calls_short, shorter than
    // --collector.calls.short-call) as a share of the ended calls in the
    // window, with at least shortCallsMinEnded ended: a bot that hangs up
    // within seconds ends its calls without an error.
    shortCallsShareThreshold: 0.5,
    shortCallsMinEnded: 10,
    shortCallsHighFor: '15m',
    // One agent's calls in error as a share of its finished calls (with
    // --collector.calls.by-agent), with at least agentCallsMinFinished
    // finished.
    agentCallErrorShareThreshold: 0.25,
    agentCallsMinFinished: 10,
    agentCallErrorsHighFor: '10m',
    exporterDownFor: '5m',
    // Requests waiting for a slot of the request budget, on average, as a
    // multiple of the budget: 1 is as many waiting as may run at once.
    requestBudgetWaitingRatio: 1,
    requestBudgetSaturatedFor: '15m',

    // The dashboard.
    dashboardUid: 'vocode-exporter-connections',
    dashboardTags: ['vocode', 'vocode_exporter', 'prometheus'],
    grafanaRefresh: '1m',
  },
}
