local vocode = import 'vocode.libsonnet';

{
  grafanaDashboards+:: {
    'vocode.json': vocode.new($._config),
  },
}
