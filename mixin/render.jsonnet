// The files the repository ships, rendered from the mixin: `make generate`
// writes them to alerts/ and dashboards/. With the jsonnet command:
//
//   jsonnet -S -m OUT --tla-code config='{ vocodeSelector: "job=\"x\"" }' render.jsonnet
//
// config is merged into _config; without it, the defaults render.
function(config={})
  local defaults = import 'mixin.libsonnet';
  // A misspelt field would otherwise render the default silently.
  local unknown = std.setDiff(std.set(std.objectFields(config)), std.set(std.objectFields(defaults._config)));
  local mixin =
    if std.length(unknown) > 0
    then error 'unknown _config field(s) %s; the fields are listed in mixin/README.md' % std.join(', ', unknown)
    else defaults { _config+:: config };
  {
    'vocode.rules.yml':
      '# Generated from mixin/ by `make generate`: edit the mixin, not this file.\n'
      + '# Runbooks: alerts/README.md, one section per alert.\n'
      + std.manifestYamlDoc(
        { groups: mixin.prometheusRules.groups + mixin.prometheusAlerts.groups },
        indent_array_in_object=true,
        quote_keys=false,
      ) + '\n',
  } + {
    [name]: std.manifestJsonEx(mixin.grafanaDashboards[name], '  ') + '\n'
    for name in std.objectFields(mixin.grafanaDashboards)
  }
