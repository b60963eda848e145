// The pieces of PromQL that carry _config's selectors and cluster label
// into every expression. Rules and dashboard format their expressions with
// an object made here: %(vocode)s in a selector is vocodeSelector,
// %(exporter)s vocodeExporterSelector, %(account)s and %(target)s the label
// lists of `by` and `on`.
{
  new(config):: {
    local cluster = if config.showMultiCluster then [config.clusterLabel] else [],
    // by(['job', 'instance']) is "job, instance", or with showMultiCluster
    // "cluster, job, instance".
    by(labels):: std.join(', ', cluster + labels),

    vocode: config.vocodeSelector,
    exporter: config.vocodeExporterSelector,
    // The labels that tell one account of one exporter from another.
    account: self.by(['job', 'instance', 'account']),
    // The labels that tell one scrape target from another.
    target: self.by(['job', 'instance']),
  },
}
