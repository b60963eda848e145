// vocode_exporter's monitoring mixin: its Prometheus alerts and recording
// rules, and its Grafana dashboard, from one _config (config.libsonnet).
(import 'config.libsonnet')
+ (import 'rules/recording.libsonnet')
+ (import 'rules/alerts.libsonnet')
+ (import 'dashboards/dashboards.libsonnet')
