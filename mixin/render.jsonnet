// The files the repository ships, rendered from the mixin: `make generate`
// writes them to alerts/ and dashboards/. With the jsonnet command:
//
//   jsonnet -S -m OUT --tla-code config='{ vocodeSelector: "job=\"x\"" }' render.jsonnet
//
// config is merged into _config; without it, the defaults render.
function(config={})
  local mixin = (import 'mixin.libsonnet') + { _config+:: config };
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
