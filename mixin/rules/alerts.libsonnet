// The alerts. Every expression reads the account series through
// vocodeSelector and the exporter's own target through
// vocodeExporterSelector; every threshold and `for` duration is a _config
// field, and the descriptions quote them from there.
local selectors = import '../lib/selectors.libsonnet';
local text = import '../lib/text.libsonnet';

{
  prometheusAlerts+:: {
    local c = $._config,
    // What the expressions and descriptions below are formatted with: the
    // selectors and label lists, the thresholds as numbers, and the same in
    // words.
    // Numbers in their shortest form (0.1, where %s writes
    // 0.10000000000000001).
    local f = selectors.new(c) + {
      [k]: if std.isNumber(c[k]) then text.number(c[k]) else c[k]
      for k in std.objectFields(c)
    } + {
      apiErrorSharePercent: text.percent(c.apiErrorShareThreshold),
      usageNearLimitPercent: text.percent(c.usageNearLimitShare),
      callErrorSharePercent: text.percent(c.callErrorShareThreshold),
      callsNotConnectingPercent: text.percent(c.callsNotConnectingShareThreshold),
      shortCallsSharePercent: text.percent(c.shortCallsShareThreshold),
      agentCallErrorSharePercent: text.percent(c.agentCallErrorShareThreshold),
      shortCallsHighWords: text.words(c.shortCallsHighFor),
      agentCallErrorsHighWords: text.words(c.agentCallErrorsHighFor),
      warmTransfersPoolPercent: text.percent(c.warmTransfersPoolShareThreshold),
      scrapeFailingWords: text.words(c.scrapeFailingFor),
      apiRateLimitedWords: text.words(c.apiRateLimitedFor),
      collectorFailingWords: text.words(c.collectorFailingFor),
      callErrorsHighWords: text.words(c.callErrorsHighFor),
      callsNotConnectingWords: text.words(c.callsNotConnectingFor),
      callsTruncatedWords: text.words(c.callsTruncatedFor),
      exporterDownWords: text.words(c.exporterDownFor),
      requestBudgetSaturatedWords: text.words(c.requestBudgetSaturatedFor),
    },

    // A description is written over several lines here and read as one:
    // the lines are joined with a space, as YAML's folded style would.
    local oneLine(s) = std.join(' ', std.split(std.rstripChars(s, '\n'), '\n')),

    local alert(name, severity, duration, expr, summary, description) = {
      alert: name,
      expr: expr % f,
      'for': duration,
      labels: { severity: severity },
      annotations: {
        summary: summary % f,
        description: oneLine(description % f),
        runbook_url: c.runbookURLBase + std.asciiLower(name),
      },
    },

    groups+: [
      {
        name: 'vocode-alerts',
        rules: [
          // Twilio connections are what the exporter exists to watch; the
          // first two alerts both require vocode_up == 1 so that an API
          // outage (every connection series vanishing at once) is never
          // read as lost or missing connections.
          alert(
            'VocodeTwilioConnectionsMissing',
            'critical',
            c.twilioConnectionsMissingFor,
            |||
              vocode_account_connections{%(vocode)s, type="twilio"} == 0
              and ignoring (type)
              vocode_up{%(vocode)s} == 1
            |||,
            'A Vocode account has no Twilio connection.',
            |||
              Vocode account {{ $labels.account }} answers the exporter ({{ $labels.instance }})
              but lists {{ $value }} Twilio connections, so calls through its own Twilio account
              cannot be placed.
            |||,
          ),

          // A connection seen in the last hour that the latest successful
          // walk did not list. It resolves when the connection comes back,
          // or an hour after it was last seen (it then falls out of the
          // max_over_time window).
          alert(
            'VocodeTwilioConnectionLost',
            'critical',
            c.twilioConnectionLostFor,
            |||
              (
                max_over_time(vocode_account_connection_info{%(vocode)s, type="twilio"}[1h])
                unless
                vocode_account_connection_info{%(vocode)s, type="twilio"}
              )
              and ignoring (connection_id, type)
              vocode_up{%(vocode)s} == 1
            |||,
            'A Twilio connection disappeared from a Vocode account.',
            |||
              Twilio connection {{ $labels.connection_id }} of Vocode account {{ $labels.account }}
              was listed during the last hour but is missing from the latest successful walk
              ({{ $labels.instance }}).
            |||,
          ),

          alert(
            'VocodeTwilioSteeringPoolEmpty',
            'warning',
            c.twilioSteeringPoolEmptyFor,
            |||
              vocode_twilio_steering_pool_size{%(vocode)s} == 0
            |||,
            'A Twilio connection has no steering-pool numbers, so warm transfers will fail.',
            |||
              Twilio connection {{ $labels.connection_id }} of Vocode account {{ $labels.account }}
              has {{ $value }} numbers in its steering pool; the Vocode API refuses warm
              transfers through it with HTTP 429.
            |||,
          ),

          alert(
            'VocodeScrapeFailing',
            'critical',
            c.scrapeFailingFor,
            |||
              vocode_up{%(vocode)s} == 0
            |||,
            "The exporter cannot list a Vocode account's connections.",
            |||
              No walk of Vocode account {{ $labels.account }}'s connection list has succeeded for
              %(scrapeFailingWords)s (exporter {{ $labels.instance }}, vocode_up = {{ $value }});
              vocode_scrape_errors_total tells why.
            |||,
          ),

          // 429s count as errors here too; VocodeAPIRateLimited tells them
          // apart.
          alert(
            'VocodeAPIErrorsHigh',
            'warning',
            c.apiErrorsHighFor,
            |||
              account:vocode_api_requests_non_2xx:ratio_rate5m{%(vocode)s} > %(apiErrorShareThreshold)s
            |||,
            'Many Vocode API requests get no 2xx answer.',
            |||
              {{ $value | humanizePercentage }} of the connection-list requests for Vocode account
              {{ $labels.account }} got no 2xx answer over the last 5 minutes
              (exporter {{ $labels.instance }}).
            |||,
          ),

          alert(
            'VocodeAPIRateLimited',
            'warning',
            c.apiRateLimitedFor,
            |||
              account_code:vocode_api_requests:rate5m{%(vocode)s, code="429"}
              / ignoring (code)
              account:vocode_api_requests:rate5m{%(vocode)s}
              > 0
            |||,
            'The Vocode API keeps answering 429 Too Many Requests.',
            |||
              {{ $value | humanizePercentage }} of the connection-list requests for Vocode account
              {{ $labels.account }} were answered with 429 over the last 5 minutes, and 429s have
              not stopped for %(apiRateLimitedWords)s (exporter {{ $labels.instance }}).
            |||,
          ),

          alert(
            'VocodeAPILatencyHigh',
            'warning',
            c.apiLatencyHighFor,
            |||
              account:vocode_api_request_duration_seconds:p95_rate5m{%(vocode)s} > %(apiLatencyP95Threshold)s
            |||,
            'Vocode API requests are slow.',
            |||
              The 95th percentile of connection-list request latency for Vocode account
              {{ $labels.account }} is {{ $value | humanizeDuration }} over the last 5 minutes
              (threshold %(apiLatencyP95Threshold)ss, exporter {{ $labels.instance }}).
            |||,
          ),

          // Usage against the plan's monthly limit: calls stop when it is
          // reached. vocode_usage_limit_minutes is absent for a plan without
          // a limit, so neither alert can fire for one.
          alert(
            'VocodeUsageNearLimit',
            'warning',
            c.usageNearLimitFor,
            |||
              vocode_usage_minutes{%(vocode)s}
                >= on (%(account)s) (%(usageNearLimitShare)s * vocode_usage_limit_minutes{%(vocode)s})
            |||,
            'A Vocode account has used %(usageNearLimitPercent)s of its monthly minutes.',
            |||
              Vocode account {{ $labels.account }} has used {{ $value }} minutes this month, %(usageNearLimitPercent)s or
              more of its plan's limit; calls stop when the limit is reached (exporter
              {{ $labels.instance }}).
            |||,
          ),

          alert(
            'VocodeUsageLimitReached',
            'critical',
            c.usageLimitReachedFor,
            |||
              vocode_usage_minutes{%(vocode)s}
                >= on (%(account)s) vocode_usage_limit_minutes{%(vocode)s}
            |||,
            'A Vocode account has used all its monthly minutes.',
            |||
              Vocode account {{ $labels.account }} has used {{ $value }} minutes this month, its
              plan's whole limit: calls stop until the limit is raised or the month ends (exporter
              {{ $labels.instance }}).
            |||,
          ),

          // A number whose Twilio connection is not in the connection list:
          // calls on it fail. Only while both walks of the account succeed:
          // a failed connections walk exports no connection, which must not
          // read as every connection gone; a failed numbers walk exports no
          // number.
          alert(
            'VocodeNumberConnectionMissing',
            'critical',
            c.numberConnectionMissingFor,
            |||
              (
                vocode_number_info{%(vocode)s, connection_id!=""}
                unless on (%(account)s, connection_id)
                vocode_account_connection_info{%(vocode)s}
              )
              and on (%(account)s) (vocode_scrape_collector_success{%(vocode)s, collector="connections"} == 1)
              and on (%(account)s) (vocode_scrape_collector_success{%(vocode)s, collector="numbers"} == 1)
            |||,
            "A Vocode phone number's telephony connection is gone.",
            |||
              Number {{ $labels.number }} ({{ $labels.label }}) of Vocode account {{ $labels.account }}
              uses {{ $labels.provider }} connection {{ $labels.connection_id }}, which the account's
              connection list does not hold: calls on this number fail (exporter {{ $labels.instance }}).
            |||,
          ),

          // An active number that takes calls (not outbound-only) with no
          // agent to answer them: callers ring into nothing.
          alert(
            'VocodeInboundNumberWithoutAgent',
            'warning',
            c.inboundNumberWithoutAgentFor,
            |||
              (
                vocode_number_inbound_agent{%(vocode)s} == 0
                and on (%(account)s, number_id) (vocode_number_active{%(vocode)s} == 1)
                and on (%(account)s, number_id) (vocode_number_outbound_only{%(vocode)s} == 0)
              )
              * on (%(account)s, number_id) group_left (number, label, provider)
              vocode_number_info{%(vocode)s}
            |||,
            'An inbound Vocode phone number has no agent.',
            |||
              Number {{ $labels.number }} ({{ $labels.label }}) of Vocode account {{ $labels.account }}
              is active and takes inbound calls, but no inbound agent is set: calls to it ring into
              nothing (exporter {{ $labels.instance }}).
            |||,
          ),

          // Fewer connections of a type than the configured minimum, while
          // the walk succeeds. Catches the account that should have three
          // Twilio connections and has two, which
          // VocodeTwilioConnectionsMissing (zero) never does and
          // VocodeTwilioConnectionLost forgets after an hour.
          alert(
            'VocodeConnectionsBelowExpected',
            'critical',
            c.connectionsBelowExpectedFor,
            |||
              (
                vocode_account_connections_expected{%(vocode)s}
                  - on (%(account)s, type) vocode_account_connections{%(vocode)s}
              ) > 0
              and on (%(account)s) (vocode_up{%(vocode)s} == 1)
            |||,
            'A Vocode account has fewer connections than expected.',
            |||
              Vocode account {{ $labels.account }} has {{ $value }} {{ $labels.type }} connection(s)
              fewer than its exporter configuration expects (expected_connections), while its
              walks succeed (exporter {{ $labels.instance }}).
            |||,
          ),

          // The usage, numbers and calls collectors fail on their own:
          // vocode_up and the connection series do not show it.
          alert(
            'VocodeCollectorFailing',
            'warning',
            c.collectorFailingFor,
            |||
              vocode_scrape_collector_success{%(vocode)s, collector=~"usage|numbers|agents|calls"} == 0
            |||,
            'A Vocode collector keeps failing.',
            |||
              The {{ $labels.collector }} collector of Vocode account {{ $labels.account }} has failed
              on every scrape for %(collectorFailingWords)s: its series are missing, so its alerts are blind
              (exporter {{ $labels.instance }}). vocode_scrape_errors_total{collector="{{ $labels.collector }}"}
              tells why.
            |||,
          ),

          // The calls alerts read the calls collector's window gauges
          // (--collector.calls, off by default). With the collector off, or
          // a calls walk failing, those series are absent and every calls
          // alert is quiet; VocodeCollectorFailing tells the second case.
          // Finished calls are those with status error or ended;
          // callsMinFinished keeps a quiet account's one failed call out of
          // the pager.
          alert(
            'VocodeCallErrorsHigh',
            'warning',
            c.callErrorsHighFor,
            |||
              (
                sum by (%(account)s) (vocode_calls{%(vocode)s, status="error"})
                /
                sum by (%(account)s) (vocode_calls{%(vocode)s, status=~"error|ended"})
              ) >= %(callErrorShareThreshold)s
              and on (%(account)s)
              sum by (%(account)s) (vocode_calls{%(vocode)s, status=~"error|ended"}) >= %(callsMinFinished)s
            |||,
            "Many of a Vocode account's calls end in error.",
            |||
              {{ $value | humanizePercentage }} of the finished calls of Vocode account
              {{ $labels.account }} in the calls window ended with status error, for %(callErrorsHighWords)s
              (threshold %(callErrorSharePercent)s, exporter {{ $labels.instance }}).
            |||,
          ),

          alert(
            'VocodeCallsNotConnecting',
            'warning',
            c.callsNotConnectingFor,
            |||
              (
                sum by (%(account)s) (vocode_call_stage_outcomes{%(vocode)s, stage_outcome="call_did_not_connect"})
                / on (%(account)s)
                sum by (%(account)s) (vocode_calls{%(vocode)s, status=~"error|ended"})
              ) >= %(callsNotConnectingShareThreshold)s
              and on (%(account)s)
              sum by (%(account)s) (vocode_calls{%(vocode)s, status=~"error|ended"}) >= %(callsMinFinished)s
            |||,
            "Many of a Vocode account's calls do not connect.",
            |||
              {{ $value | humanizePercentage }} of the finished calls of Vocode account
              {{ $labels.account }} in the calls window ended with stage outcome
              call_did_not_connect, for %(callsNotConnectingWords)s (threshold %(callsNotConnectingPercent)s, exporter {{ $labels.instance }}).
            |||,
          ),

          // Each warm transfer holds one steering-pool number of the
          // account's Twilio connections until it ends; a full pool answers
          // the next one with 429. An empty pool is
          // VocodeTwilioSteeringPoolEmpty's business.
          alert(
            'VocodeWarmTransfersNearPoolLimit',
            'warning',
            c.warmTransfersNearPoolLimitFor,
            |||
              vocode_calls_in_progress{%(vocode)s, stage="transfer_started"}
                / on (%(account)s)
              (sum by (%(account)s) (vocode_twilio_steering_pool_size{%(vocode)s}) > 0)
              >= %(warmTransfersPoolShareThreshold)s
            |||,
            "Warm transfers in progress nearly fill a Vocode account's steering pools.",
            |||
              Warm transfers in progress on Vocode account {{ $labels.account }} hold
              {{ $value | humanizePercentage }} of the numbers in its Twilio steering pools
              (threshold %(warmTransfersPoolPercent)s); when the pools are full, the next warm transfer fails with HTTP 429
              (exporter {{ $labels.instance }}).
            |||,
          ),

          // A bot whose LLM key was revoked, or whose prompt breaks, hangs
          // up within seconds: its calls end, never in error, and only
          // their durations tell. Quiet with the calls collector off or its
          // walk failing (the series are absent).
          alert(
            'VocodeShortCallsHigh',
            'warning',
            c.shortCallsHighFor,
            |||
              (
                sum by (%(account)s) (vocode_calls_short{%(vocode)s})
                / on (%(account)s)
                sum by (%(account)s) (vocode_calls{%(vocode)s, status="ended"})
              ) >= %(shortCallsShareThreshold)s
              and on (%(account)s)
              sum by (%(account)s) (vocode_calls{%(vocode)s, status="ended"}) >= %(shortCallsMinEnded)s
            |||,
            "Many of a Vocode account's calls end within seconds.",
            |||
              {{ $value | humanizePercentage }} of the ended calls of Vocode account {{ $labels.account }}
              in the calls window were shorter than --collector.calls.short-call, for %(shortCallsHighWords)s
              (threshold %(shortCallsSharePercent)s, at least %(shortCallsMinEnded)s ended, exporter {{ $labels.instance }}).
            |||,
          ),

          // One broken agent among many is a small error share for the
          // account; per agent (--collector.calls.by-agent) it shows. The
          // agents past --collector.calls.max-agents, summed under
          // agent="other", are no one agent and are left out; so are calls
          // naming no agent or one not in the agents list (agent="unknown").
          alert(
            'VocodeAgentCallErrorsHigh',
            'warning',
            c.agentCallErrorsHighFor,
            |||
              (
                sum by (%(account)s, agent) (vocode_agent_calls{%(vocode)s, agent!~"other|unknown", status="error"})
                / on (%(account)s, agent)
                sum by (%(account)s, agent) (vocode_agent_calls{%(vocode)s, agent!~"other|unknown", status=~"error|ended"})
              ) >= %(agentCallErrorShareThreshold)s
              and on (%(account)s, agent)
              sum by (%(account)s, agent) (vocode_agent_calls{%(vocode)s, agent!~"other|unknown", status=~"error|ended"}) >= %(agentCallsMinFinished)s
            |||,
            "Many of one Vocode agent's calls end in error.",
            |||
              {{ $value | humanizePercentage }} of the finished calls of agent {{ $labels.agent }} of Vocode
              account {{ $labels.account }} in the calls window ended with status error, for %(agentCallErrorsHighWords)s
              (threshold %(agentCallErrorSharePercent)s, at least %(agentCallsMinFinished)s finished, exporter {{ $labels.instance }}).
            |||,
          ),

          alert(
            'VocodeCallsTruncated',
            'warning',
            c.callsTruncatedFor,
            |||
              vocode_calls_truncated{%(vocode)s} == 1
            |||,
            'The calls counts of a Vocode account cover less than their window.',
            |||
              The calls walk of Vocode account {{ $labels.account }} has stopped at
              --collector.calls.max-pages with calls of its window left unread for %(callsTruncatedWords)s:
              the calls gauges, and the calls alerts, miss those calls (exporter
              {{ $labels.instance }}).
            |||,
          ),

          // `absent` covers a target that service discovery dropped: `up` is
          // then gone rather than 0. The accounts' targets (vocodeSelector)
          // must exist: the exporter itself with /metrics, or one /probe
          // target per account in probe mode. absent() keeps only the
          // selector's equality matchers as labels, and sees every cluster
          // at once. up{vocodeSelector} == 0 is a probe that fails: its
          // account exports no vocode_up, so VocodeScrapeFailing cannot
          // tell, and in probe mode vocodeExporterSelector need not select
          // the probe job. This alert rather than one of its own, because a
          // failing probe is a failing scrape of the exporter and its
          // runbook tells the cases apart.
          alert(
            'VocodeExporterDown',
            'critical',
            c.exporterDownFor,
            |||
              up{%(exporter)s} == 0
              or
              up{%(vocode)s} == 0
              or
              absent(up{%(vocode)s})
            |||,
            'Prometheus cannot scrape the Vocode exporter.',
            |||
              {{ if $labels.instance }}Scrapes of {{ $labels.instance }} (job {{ $labels.job }})
              have failed{{ else }}Prometheus has had no target with job="{{ $labels.job }}"{{ end }}
              for %(exporterDownWords)s, so no Vocode account behind it is watched. In probe mode the
              instance is an account: one failing alone is a probe the exporter turns away
              (an account it has no configuration for), all failing is the exporter down.
            |||,
          ),

          // The budget's waiting time, as a rate, is the average number of
          // API requests queued for a slot. As many queued as the budget
          // lets run means requests wait about as long as they take: walks
          // are twice as slow as the API makes them.
          alert(
            'VocodeExporterRequestBudgetSaturated',
            'warning',
            c.requestBudgetSaturatedFor,
            |||
              rate(vocode_exporter_api_request_budget_wait_seconds_total{%(exporter)s}[10m])
                >= on (%(target)s)
              %(requestBudgetWaitingRatio)s * vocode_exporter_api_max_requests_in_flight{%(exporter)s}
            |||,
            "The Vocode exporter's request budget slows its walks down.",
            |||
              On average {{ $value | printf "%%.1f" }} API requests of exporter {{ $labels.instance }}
              have waited for a slot of its request budget over 10 minutes, as many as the budget
              (--vocode.max-requests-in-flight) lets run at once, for %(requestBudgetSaturatedWords)s.
            |||,
          ),
        ],
      },
    ],
  },
}
