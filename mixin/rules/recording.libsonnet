// Recording rules are named level:metric:operations. The level lists the
// Vocode labels kept; job and instance (and the cluster label with
// showMultiCluster) are always kept as well, because they tell exporters
// (for example an HA pair) apart.
local selectors = import '../lib/selectors.libsonnet';

{
  prometheusRules+:: {
    local f = selectors.new($._config),
    groups+: [
      {
        name: 'vocode-recording',
        rules: [
          // Request rate of the connection-list walk by status code
          // ("error" when no response came back). The alerts divide these
          // two series.
          {
            record: 'account_code:vocode_api_requests:rate5m',
            expr: |||
              sum by (%(account)s, code) (
                rate(vocode_api_requests_total{%(vocode)s, endpoint="account_connections_list"}[5m])
              )
            ||| % f,
          },
          {
            record: 'account:vocode_api_requests:rate5m',
            expr: |||
              sum by (%(account)s) (account_code:vocode_api_requests:rate5m{%(vocode)s})
            ||| % f,
          },
          // Share of list requests without a 2xx answer. The `or ... * 0`
          // branch makes it 0 rather than absent for accounts that never
          // had an error.
          {
            record: 'account:vocode_api_requests_non_2xx:ratio_rate5m',
            expr: |||
              (
                sum by (%(account)s) (account_code:vocode_api_requests:rate5m{%(vocode)s, code!~"2.."})
                or
                account:vocode_api_requests:rate5m{%(vocode)s} * 0
              )
              / account:vocode_api_requests:rate5m{%(vocode)s}
            ||| % f,
          },
          // Classic histogram buckets, summed over endpoints. With native
          // histograms enabled, Prometheus must keep scraping the classic
          // buckets too (see README) or these stay empty.
          {
            record: 'account_le:vocode_api_request_duration_seconds_bucket:rate5m',
            expr: |||
              sum by (%(account)s, le) (
                rate(vocode_api_request_duration_seconds_bucket{%(vocode)s, endpoint="account_connections_list"}[5m])
              )
            ||| % f,
          },
          {
            record: 'account:vocode_api_request_duration_seconds:p95_rate5m',
            expr: |||
              histogram_quantile(0.95, account_le:vocode_api_request_duration_seconds_bucket:rate5m{%(vocode)s})
            ||| % f,
          },
          // The calls window's ended calls by duration, with the label
          // histogram_quantile reads: vocode_calls_ended_by_duration is
          // cumulative like a histogram's buckets, but a gauge over the
          // window (--collector.calls), so it is read as it is, without
          // rate(). The median and 90th percentile are interpolated within
          // a bucket; calls whose duration cannot be read are in +Inf.
          {
            record: 'account_le:vocode_calls_ended_by_duration:window',
            expr: |||
              sum by (%(account)s, le) (
                label_replace(vocode_calls_ended_by_duration{%(vocode)s}, "le", "$1", "max_seconds", "(.*)")
              )
            ||| % f,
          },
          {
            record: 'account:vocode_calls_ended_duration_seconds:p50_window',
            expr: |||
              histogram_quantile(0.5, account_le:vocode_calls_ended_by_duration:window{%(vocode)s})
            ||| % f,
          },
          {
            record: 'account:vocode_calls_ended_duration_seconds:p90_window',
            expr: |||
              histogram_quantile(0.9, account_le:vocode_calls_ended_by_duration:window{%(vocode)s})
            ||| % f,
          },
        ],
      },
    ],
  },
}
