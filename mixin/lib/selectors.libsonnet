// The pieces of PromQL that carry _config's selectors and cluster label
// into every expression. Rules and dashboard format their expressions with
// an object made here: %(vocode)s in a selector is vocodeSelector,
// %(exporter)s vocodeExporterSelector, %(account)s and %(target)s the label
// lists of `by` and `on`.
{
  // labelNames('job="a", namespace=~"x,y"') is ['job', 'namespace']: the
  // label names of a selector's matchers, read outside its quoted values.
  labelNames(selector)::
    local quotes = ['"', "'", '`'];
    // Walk the characters, keeping the text outside quotes; a backslash
    // inside "" or '' escapes the next character.
    local step(st, ch) =
      if st.escaped then st { escaped: false }
      else if st.quote != '' then (
        if ch == st.quote then st { quote: '' }
        else if ch == '\\' && st.quote != '`' then st { escaped: true }
        else st
      )
      else if std.member(quotes, ch) then st { quote: ch, out+: ' ' }
      else st { out+: ch };
    local outside = std.foldl(step, std.stringChars(selector), { quote: '', escaped: false, out: '' }).out;
    // What is left is name op , name op ...: each matcher's name is what
    // precedes its operator.
    [
      std.stripChars(std.split(std.strReplace(std.strReplace(m, '!', '='), '~', '='), '=')[0], ' \t\n')
      for m in std.split(outside, ',')
      if std.length(std.stripChars(m, ' \t\n')) > 0
    ],

  new(config):: {
    local cluster = if config.showMultiCluster then [config.clusterLabel] else [],
    // by(['job', 'instance']) is "job, instance", or with showMultiCluster
    // "cluster, job, instance".
    by(labels):: std.join(', ', cluster + labels),

    vocode: config.vocodeSelector,
    exporter: config.vocodeExporterSelector,
    // The labels that tell one account of one exporter from another, and
    // those vocodeSelector matches on (a namespace, say): the recording
    // rules keep them all, so that reading a recorded series through
    // vocodeSelector finds it.
    local selectorLabels = [
      l
      for l in $.labelNames(config.vocodeSelector)
      if !std.member(cluster + ['job', 'instance', 'account'], l)
    ],
    account: self.by(['job', 'instance'] + std.uniq(std.sort(selectorLabels)) + ['account']),
    // The labels that tell one scrape target from another.
    target: self.by(['job', 'instance']),
  },
}
