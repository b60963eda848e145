// The dashboard: one row per part of the exporter (overview,
// connections, Vocode API, walks, exporter, usage, numbers, calls, agents).
// dashboards/README.md says what question each panel answers.
//
// Every query carries its selector: %(accounts)s is vocodeSelector, the
// cluster filter with showMultiCluster, and the job, instance and account
// variables; %(exporter)s is vocodeExporterSelector and the cluster filter,
// for the exporter's own series, which in probe mode come from another job
// than the accounts' and so are not filtered by the variables.

{
  new(config)::
    local clusterFilter =
      if config.showMultiCluster then ['%s=~"$cluster"' % config.clusterLabel] else [];
    local s = {
      // The selector of the variables' queries, before the variables.
      base: std.join(', ', [config.vocodeSelector] + clusterFilter),
      accounts: std.join(', ', [self.base, 'job=~"$job"', 'instance=~"$instance"', 'account=~"$account"']),
      exporter: std.join(', ', [config.vocodeExporterSelector] + clusterFilter),
      // Alerts keep the cluster label of their series; the exporter-down
      // alert of a vanished target has none, and shows in every cluster.
      local alertsCluster =
        if config.showMultiCluster then ['%s=~"$cluster|"' % config.clusterLabel] else [],
      // Another team's Vocode alerts are in ALERTS too: the accounts' alerts
      // are read through vocodeSelector and the variables (an alert
      // without instance or account, such as absent()'s, passes those),
      // the exporter's own, which have no account label, through
      // vocodeExporterSelector.
      alertsAccounts: std.join(', ', [config.vocodeSelector] + alertsCluster + ['job=~"$job"', 'instance=~"$instance|"', 'account=~"$account|"']),
      alertsExporter: std.join(', ', [config.vocodeExporterSelector] + alertsCluster),
    };

    local datasource = { type: 'prometheus', uid: '${datasource}' };

    // A Prometheus query. Tables and stats read one instant; graphs a range.
    local target(refId, expr, legend='', instant=false, format='time_series') = {
      datasource: datasource,
      refId: refId,
      expr: expr,
      legendFormat: legend,
      editorMode: 'code',
      range: !instant,
      instant: instant,
      format: format,
    };

    local panel(id, type, title, description, gridPos, targets) = {
      id: id,
      type: type,
      title: title,
      description: description,
      datasource: datasource,
      gridPos: gridPos,
      targets: targets,
    };

    local row(id, title, gridPos) = {
      id: id,
      type: 'row',
      title: title,
      collapsed: false,
      panels: [],
      gridPos: gridPos,
    };

    // A query variable over the account series, All by default.
    local variable(name, label, description, selector) = {
      type: 'query',
      name: name,
      label: label,
      description: description,
      datasource: datasource,
      query: 'label_values(vocode_up{%s}, %s)' % [selector, name],
      definition: self.query,
      refresh: 2,
      sort: 1,
      multi: true,
      includeAll: true,
      allValue: '.*',
      hide: 0,
      regex: '',
      skipUrlSync: false,
    };

    // A graph of lines, as the Calls panels draw them; unit and max as
    // given (max null: none).
    local lines(unit, max=null) = {
      fieldConfig: {
        defaults: {
          unit: unit,
          color: { mode: 'palette-classic' },
          custom: {
            drawStyle: 'line',
            lineInterpolation: 'linear',
            lineWidth: 1,
            fillOpacity: 0,
            showPoints: 'never',
            spanNulls: false,
            axisPlacement: 'auto',
            gradientMode: 'none',
            stacking: { mode: 'none', group: 'A' },
          },
          thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }] },
          min: 0,
        } + (if max == null then {} else { max: max }),
        overrides: [],
      },
      options: {
        legend: { displayMode: 'table', placement: 'right', showLegend: true, calcs: ['lastNotNull', 'max'] },
        tooltip: { mode: 'multi', sort: 'desc' },
      },
    };

    // A table of instant queries merged on their labels: hidden columns,
    // column order and names as given.
    local table(exclude, order, rename, sortBy) = {
      fieldConfig: {
        defaults: {
          unit: 'short',
          color: { mode: 'thresholds' },
          thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }] },
          custom: { align: 'auto', inspect: false, cellOptions: { type: 'auto' } },
        },
        overrides: [],
      },
      options: { showHeader: true, cellHeight: 'sm', frameIndex: 0, sortBy: sortBy },
      transformations: [
        { id: 'merge', options: {} },
        {
          id: 'organize',
          options: {
            excludeByName: { [k]: true for k in ['Time', '__name__', 'job'] + exclude },
            indexByName: { [order[i]]: i for i in std.range(0, std.length(order) - 1) },
            renameByName: rename,
          },
        },
      ],
    };

    local cluster = variable('cluster', 'Cluster', 'Cluster (the %s label) of the exporter targets.' % config.clusterLabel, config.vocodeSelector) + {
      query: 'label_values(vocode_up{%s}, %s)' % [config.vocodeSelector, config.clusterLabel],
      // One cluster at a time: the panels sum accounts by name.
      multi: false,
      includeAll: false,
    };

    {
      uid: config.dashboardUid,
      tags: config.dashboardTags,
      refresh: config.grafanaRefresh,
      title: 'Vocode account connections',
      description: 'Vocode Hosted API account connections as seen by vocode_exporter: walk health, connections by type, Twilio steering pools, API requests, latency and errors, usage, numbers, and calls (with --collector.calls).',
      editable: true,
      graphTooltip: 1,
      timezone: 'browser',
      fiscalYearStartMonth: 0,
      liveNow: false,
      schemaVersion: 42,
      version: 1,
      time: {
        from: 'now-6h',
        to: 'now',
      },
      timepicker: {},
      links: [
        {
          title: 'Alert runbooks',
          type: 'link',
          icon: 'doc',
          tooltip: 'What to do when a Vocode alert fires',
          url: 'https://github.com/vocode-exporter/vocode_exporter/blob/main/alerts/README.md',
          targetBlank: true,
          asDropdown: false,
          includeVars: false,
          keepTime: false,
          tags: [],
        },
      ],
      annotations: {
        list: [
          {
            builtIn: 1,
            datasource: {
              type: 'grafana',
              uid: '-- Grafana --',
            },
            enable: true,
            hide: true,
            iconColor: 'rgba(0, 211, 255, 1)',
            name: 'Annotations & Alerts',
            type: 'dashboard',
          },
        ],
      },
      templating: {
        list: [
          {
            type: 'datasource',
            name: 'datasource',
            label: 'Data source',
            query: 'prometheus',
            description: 'Prometheus data source that scrapes vocode_exporter.',
            refresh: 1,
            regex: '',
            hide: 0,
            multi: false,
            includeAll: false,
            skipUrlSync: false,
          },
        ] + (if config.showMultiCluster then [cluster] else []) + [
          variable('job', 'Job', 'Prometheus job of the exporter targets.', s.base),
          variable('instance', 'Instance', 'Exporter instance.', s.base + ', job=~"$job"'),
          variable('account', 'Account', "Vocode account, as named in the exporter's configuration file.", s.base + ', job=~"$job", instance=~"$instance"'),
        ],
      },
      panels: [
        row(1, 'Overview', { h: 1, w: 24, x: 0, y: 0 }),
        panel(2, 'stat', 'Walk status by account', "Is every account's walk of the connection list succeeding? vocode_up per account from the latest scrape: ok when the whole list was read, failing when any page failed (see Failed scrapes by reason).", { x: 0, y: 1, w: 10, h: 5 }, [
          target('A', 'vocode_up{%(accounts)s}' % s, legend='{{account}}', instant=true),
        ]) + {
          fieldConfig: {
            defaults: {
              unit: 'none',
              color: {
                mode: 'thresholds',
              },
              mappings: [
                {
                  type: 'value',
                  options: {
                    '0': {
                      text: 'failing',
                      color: 'red',
                      index: 0,
                    },
                    '1': {
                      text: 'ok',
                      color: 'green',
                      index: 1,
                    },
                  },
                },
              ],
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'red',
                    value: null,
                  },
                  {
                    color: 'green',
                    value: 1,
                  },
                ],
              },
            },
            overrides: [],
          },
          options: {
            reduceOptions: {
              calcs: [
                'lastNotNull',
              ],
              fields: '',
              values: false,
            },
            orientation: 'auto',
            textMode: 'value_and_name',
            colorMode: 'background',
            graphMode: 'none',
            justifyMode: 'auto',
            wideLayout: true,
            showPercentChange: false,
            percentChangeColorMode: 'standard',
          },
        },
        panel(3, 'stat', 'Exporter targets', "Can Prometheus scrape the exporter itself? Prometheus' up series for each target of the exporter's own job (the mixin's vocodeExporterSelector: in probe mode the accounts' /probe targets only where it selects them too). The job and instance variables, which list the accounts' targets, do not filter it.", { x: 10, y: 1, w: 4, h: 5 }, [
          target('A', 'up{%(exporter)s}' % s, legend='{{instance}}', instant=true),
        ]) + {
          fieldConfig: {
            defaults: {
              unit: 'none',
              color: {
                mode: 'thresholds',
              },
              mappings: [
                {
                  type: 'value',
                  options: {
                    '0': {
                      text: 'failing',
                      color: 'red',
                      index: 0,
                    },
                    '1': {
                      text: 'ok',
                      color: 'green',
                      index: 1,
                    },
                  },
                },
              ],
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'red',
                    value: null,
                  },
                  {
                    color: 'green',
                    value: 1,
                  },
                ],
              },
            },
            overrides: [],
          },
          options: {
            reduceOptions: {
              calcs: [
                'lastNotNull',
              ],
              fields: '',
              values: false,
            },
            orientation: 'auto',
            textMode: 'value_and_name',
            colorMode: 'background',
            graphMode: 'none',
            justifyMode: 'auto',
            wideLayout: true,
            showPercentChange: false,
            percentChangeColorMode: 'standard',
          },
        },
        panel(4, 'stat', 'Connections by type', 'How many connections of each type do the selected accounts have? Sum of vocode_account_connections over the accounts whose latest walk succeeded.', { x: 14, y: 1, w: 10, h: 5 }, [
          target('A', 'sum by (type) (vocode_account_connections{%(accounts)s})' % s, legend='{{type}}', instant=true),
        ]) + {
          fieldConfig: {
            defaults: {
              unit: 'short',
              color: {
                mode: 'thresholds',
              },
              mappings: [],
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
            },
            overrides: [],
          },
          options: {
            reduceOptions: {
              calcs: [
                'lastNotNull',
              ],
              fields: '',
              values: false,
            },
            orientation: 'auto',
            textMode: 'value_and_name',
            colorMode: 'value',
            graphMode: 'none',
            justifyMode: 'auto',
            wideLayout: true,
            showPercentChange: false,
            percentChangeColorMode: 'standard',
          },
        },
        panel(5, 'table', 'Firing and pending Vocode alerts', "Which Vocode alerts are pending or firing right now? Prometheus' ALERTS series for the rules in alerts/vocode.rules.yml (empty when the rules are not loaded), of this dashboard's jobs only: the alerts of the accounts' targets that the job, instance and account variables select, and those of the exporter's own target. Alerts without an account or instance label, such as VocodeExporterDown, are shown whatever the account and instance variables select.", { x: 0, y: 6, w: 24, h: 6 }, [
          target('A', 'ALERTS{alertname=~"Vocode.+", %(alertsAccounts)s} or ALERTS{alertname=~"Vocode.+", account="", %(alertsExporter)s}' % s, instant=true, format='table'),
        ]) + {
          fieldConfig: {
            defaults: {
              unit: 'none',
              color: {
                mode: 'thresholds',
              },
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              custom: {
                align: 'auto',
                inspect: false,
                cellOptions: {
                  type: 'auto',
                },
              },
            },
            overrides: [],
          },
          options: {
            showHeader: true,
            cellHeight: 'sm',
            frameIndex: 0,
            sortBy: [
              {
                displayName: 'severity',
                desc: false,
              },
            ],
          },
          transformations: [
            {
              id: 'organize',
              options: {
                excludeByName: {
                  Time: true,
                  Value: true,
                  __name__: true,
                },
                indexByName: {
                  alertname: 0,
                  alertstate: 1,
                  severity: 2,
                  account: 3,
                  connection_id: 4,
                },
                renameByName: {},
              },
            },
          ],
        },
        row(6, 'Connections', { h: 1, w: 24, x: 0, y: 12 }),
        panel(7, 'table', 'Twilio connections', 'Which Twilio connections have an empty or small steering pool, and which may use any caller ID? One row per connection, smallest pool first: 0 (red) means warm transfers through it fail with 429; the pool size is the most warm transfers it can run at once.', { x: 0, y: 13, w: 12, h: 9 }, [
          target('A', 'vocode_twilio_steering_pool_size{%(accounts)s}' % s, instant=true, format='table'),
          target('B', 'vocode_twilio_account_supports_any_caller_id{%(accounts)s}' % s, instant=true, format='table'),
        ]) + {
          fieldConfig: {
            defaults: {
              unit: 'short',
              color: {
                mode: 'thresholds',
              },
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              custom: {
                align: 'auto',
                inspect: false,
                cellOptions: {
                  type: 'auto',
                },
              },
            },
            overrides: [
              {
                matcher: {
                  id: 'byName',
                  options: 'Steering pool',
                },
                properties: [
                  {
                    id: 'thresholds',
                    value: {
                      mode: 'absolute',
                      steps: [
                        {
                          color: 'red',
                          value: null,
                        },
                        {
                          color: 'orange',
                          value: 1,
                        },
                        {
                          color: 'green',
                          value: 3,
                        },
                      ],
                    },
                  },
                  {
                    id: 'custom.cellOptions',
                    value: {
                      type: 'color-background',
                    },
                  },
                ],
              },
              {
                matcher: {
                  id: 'byName',
                  options: 'Any caller ID',
                },
                properties: [
                  {
                    id: 'mappings',
                    value: [
                      {
                        type: 'value',
                        options: {
                          '0': {
                            text: 'no',
                            index: 0,
                          },
                          '1': {
                            text: 'yes',
                            index: 1,
                          },
                        },
                      },
                    ],
                  },
                ],
              },
            ],
          },
          options: {
            showHeader: true,
            cellHeight: 'sm',
            frameIndex: 0,
            sortBy: [
              {
                displayName: 'Steering pool',
                desc: false,
              },
            ],
          },
          transformations: [
            {
              id: 'merge',
              options: {},
            },
            {
              id: 'organize',
              options: {
                excludeByName: {
                  Time: true,
                  __name__: true,
                  job: true,
                },
                indexByName: {
                  account: 0,
                  connection_id: 1,
                  'Value #A': 2,
                  'Value #B': 3,
                  instance: 4,
                },
                renameByName: {
                  'Value #A': 'Steering pool',
                  'Value #B': 'Any caller ID',
                },
              },
            },
          ],
        },
        panel(8, 'timeseries', 'Connections over time', "How did each account's connections change? vocode_account_connections by account and type; gaps are scrapes whose walk failed (no connection series are exported then). Dashed: the least number the exporter's configuration expects (expected_connections); VocodeConnectionsBelowExpected fires while an account stays below it.", { x: 12, y: 13, w: 12, h: 9 }, [
          target('A', 'sum by (account, type) (vocode_account_connections{%(accounts)s})' % s, legend='{{account}} {{type}}'),
          target('B', 'sum by (account, type) (vocode_account_connections_expected{%(accounts)s})' % s, legend='{{account}} {{type}} expected'),
        ]) + {
          fieldConfig: {
            defaults: {
              unit: 'short',
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineInterpolation: 'stepAfter',
                lineWidth: 1,
                fillOpacity: 0,
                showPoints: 'never',
                spanNulls: false,
                axisPlacement: 'auto',
                gradientMode: 'none',
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
              },
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
            },
            overrides: [
              {
                matcher: {
                  id: 'byFrameRefID',
                  options: 'B',
                },
                properties: [
                  {
                    id: 'custom.lineStyle',
                    value: {
                      fill: 'dash',
                      dash: [
                        10,
                        10,
                      ],
                    },
                  },
                ],
              },
            ],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'right',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
        },
        row(9, 'Vocode API', { h: 1, w: 24, x: 0, y: 22 }),
        panel(10, 'timeseries', 'API requests by status code', 'How often does the exporter call the Vocode API and what does it answer? Requests per second by account and HTTP status; code "error" means no response (timeout, connection failure).', { x: 0, y: 23, w: 12, h: 8 }, [
          target('A', 'sum by (account, code) (rate(vocode_api_requests_total{%(accounts)s}[$__rate_interval]))' % s, legend='{{account}} {{code}}'),
        ]) + {
          fieldConfig: {
            defaults: {
              unit: 'reqps',
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineInterpolation: 'linear',
                lineWidth: 1,
                fillOpacity: 20,
                showPoints: 'never',
                spanNulls: false,
                axisPlacement: 'auto',
                gradientMode: 'none',
                stacking: {
                  mode: 'normal',
                  group: 'A',
                },
              },
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'right',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
        },
        panel(11, 'timeseries', 'API error share', 'What share of Vocode API requests get no 2xx answer? Non-2xx and unanswered requests over all requests, per account; VocodeAPIErrorsHigh fires above 10% for 15 minutes.', { x: 12, y: 23, w: 12, h: 8 }, [
          target('A', '(\n  sum by (account) (rate(vocode_api_requests_total{%(accounts)s, code!~"2.."}[$__rate_interval]))\n  or\n  sum by (account) (rate(vocode_api_requests_total{%(accounts)s}[$__rate_interval])) * 0\n)\n/\nsum by (account) (rate(vocode_api_requests_total{%(accounts)s}[$__rate_interval]))' % s, legend='{{account}}'),
        ]) + {
          fieldConfig: {
            defaults: {
              unit: 'percentunit',
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineInterpolation: 'linear',
                lineWidth: 1,
                fillOpacity: 0,
                showPoints: 'never',
                spanNulls: false,
                axisPlacement: 'auto',
                gradientMode: 'none',
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
              },
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
              max: 1,
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'right',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
        },
        panel(12, 'timeseries', 'API latency p50 / p95 / p99', 'How long do Vocode API requests take? Latency quantiles per account from the request-duration histogram (body read and decode included); VocodeAPILatencyHigh fires when p95 stays above 2s.', { x: 0, y: 31, w: 12, h: 8 }, [
          target('A', 'histogram_quantile(0.5, sum by (account, le) (rate(vocode_api_request_duration_seconds_bucket{%(accounts)s}[$__rate_interval])))' % s, legend='{{account}} p50'),
          target('B', 'histogram_quantile(0.95, sum by (account, le) (rate(vocode_api_request_duration_seconds_bucket{%(accounts)s}[$__rate_interval])))' % s, legend='{{account}} p95'),
          target('C', 'histogram_quantile(0.99, sum by (account, le) (rate(vocode_api_request_duration_seconds_bucket{%(accounts)s}[$__rate_interval])))' % s, legend='{{account}} p99'),
        ]) + {
          fieldConfig: {
            defaults: {
              unit: 's',
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineInterpolation: 'linear',
                lineWidth: 1,
                fillOpacity: 0,
                showPoints: 'never',
                spanNulls: false,
                axisPlacement: 'auto',
                gradientMode: 'none',
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
              },
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'right',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
        },
        panel(13, 'heatmap', 'API latency distribution', 'How are Vocode API request latencies spread? Requests per latency bucket in each interval, over the selected accounts; a band moving up means the API is slowing down.', { x: 12, y: 31, w: 12, h: 8 }, [
          target('A', 'sum by (le) (increase(vocode_api_request_duration_seconds_bucket{%(accounts)s}[$__rate_interval]))' % s, legend='{{le}}', format='heatmap'),
        ]) + {
          fieldConfig: {
            defaults: {
              unit: 'short',
              custom: {
                hideFrom: {
                  legend: false,
                  tooltip: false,
                  viz: false,
                },
                scaleDistribution: {
                  type: 'linear',
                },
              },
            },
            overrides: [],
          },
          options: {
            calculate: false,
            cellGap: 1,
            color: {
              mode: 'scheme',
              scheme: 'Oranges',
              fill: 'dark-orange',
              scale: 'exponential',
              exponent: 0.5,
              steps: 64,
              reverse: false,
            },
            exemplars: {
              color: 'rgba(255,0,255,0.7)',
            },
            filterValues: {
              le: 1e-09,
            },
            legend: {
              show: true,
            },
            rowsFrame: {
              layout: 'auto',
            },
            showValue: 'auto',
            cellValues: {
              unit: 'short',
            },
            tooltip: {
              mode: 'single',
              yHistogram: false,
              showColorScale: false,
            },
            yAxis: {
              axisPlacement: 'left',
              reverse: false,
              unit: 's',
            },
          },
        },
        row(14, 'Walks', { h: 1, w: 24, x: 0, y: 39 }),
        panel(15, 'timeseries', 'Walk duration', "How long does reading an account's whole connection list take? vocode_scrape_duration_seconds per account, failed walks included; it must stay well under Prometheus' scrape timeout.", { x: 0, y: 40, w: 8, h: 8 }, [
          target('A', 'vocode_scrape_duration_seconds{%(accounts)s}' % s, legend='{{account}}'),
        ]) + {
          fieldConfig: {
            defaults: {
              unit: 's',
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineInterpolation: 'linear',
                lineWidth: 1,
                fillOpacity: 0,
                showPoints: 'never',
                spanNulls: false,
                axisPlacement: 'auto',
                gradientMode: 'none',
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
              },
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'right',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
        },
        panel(16, 'timeseries', 'Pages per walk', 'How many list pages does each walk fetch? vocode_scrape_pages per account; it grows with the number of connections and the page size.', { x: 8, y: 40, w: 8, h: 8 }, [
          target('A', 'vocode_scrape_pages{%(accounts)s}' % s, legend='{{account}}'),
        ]) + {
          fieldConfig: {
            defaults: {
              unit: 'short',
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineInterpolation: 'stepAfter',
                lineWidth: 1,
                fillOpacity: 0,
                showPoints: 'never',
                spanNulls: false,
                axisPlacement: 'auto',
                gradientMode: 'none',
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
              },
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'right',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
        },
        panel(17, 'timeseries', 'Failed scrapes by reason', 'Why do walks fail? Scrapes in which a collector (connections, usage, numbers) failed, per account, collector and reason (auth, rate_limited, server_error, client_error, timeout, transport, decode, too_large, pagination) counted over each interval; only reasons that occurred are shown.', { x: 16, y: 40, w: 8, h: 8 }, [
          target('A', 'sum by (account, collector, reason) (increase(vocode_scrape_errors_total{%(accounts)s}[$__rate_interval])) > 0' % s, legend='{{account}} {{collector}} {{reason}}'),
        ]) + {
          fieldConfig: {
            defaults: {
              unit: 'short',
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'bars',
                lineInterpolation: 'linear',
                lineWidth: 1,
                fillOpacity: 80,
                showPoints: 'never',
                spanNulls: false,
                axisPlacement: 'auto',
                gradientMode: 'none',
                stacking: {
                  mode: 'normal',
                  group: 'A',
                },
              },
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'right',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
        },
        row(18, 'Exporter', { h: 1, w: 24, x: 0, y: 48 }),
        panel(19, 'timeseries', 'Request budget', "Is the exporter's request budget (--vocode.max-requests-in-flight) slowing walks down? The budget's limit, the API requests holding a slot, and the average number of requests waiting for one (the rate of vocode_exporter_api_request_budget_wait_seconds_total), per exporter. Waiting requests lengthen walks; VocodeExporterRequestBudgetSaturated fires when as many wait as the budget lets run.", { x: 0, y: 49, w: 12, h: 8 }, [
          target('A', 'max by (job, instance) (vocode_exporter_api_max_requests_in_flight{%(exporter)s})' % s, legend='limit {{instance}}'),
          target('B', 'max by (job, instance) (vocode_exporter_api_requests_in_flight{%(exporter)s})' % s, legend='in flight {{instance}}'),
          target('C', 'sum by (job, instance) (rate(vocode_exporter_api_request_budget_wait_seconds_total{%(exporter)s}[$__rate_interval]))' % s, legend='waiting (average) {{instance}}'),
        ]) + {
          fieldConfig: {
            defaults: {
              unit: 'short',
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineInterpolation: 'linear',
                lineWidth: 1,
                fillOpacity: 0,
                showPoints: 'never',
                spanNulls: false,
                axisPlacement: 'auto',
                gradientMode: 'none',
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
              },
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'right',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
        },
        row(20, 'Usage', { h: 1, w: 24, x: 0, y: 57 }),
        panel(21, 'timeseries', 'Minutes used against the limit', "How close is each account to its plan's monthly limit? vocode_usage_minutes (this month's minutes) next to vocode_usage_limit_minutes (absent for a plan without a limit). Calls stop at the limit: VocodeUsageNearLimit fires at 90%, VocodeUsageLimitReached at 100%.", { x: 0, y: 58, w: 12, h: 8 }, [
          target('A', 'vocode_usage_minutes{%(accounts)s}' % s, legend='{{account}} used'),
          target('B', 'vocode_usage_limit_minutes{%(accounts)s}' % s, legend='{{account}} limit'),
        ]) + {
          fieldConfig: {
            defaults: {
              unit: 'm',
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineInterpolation: 'linear',
                lineWidth: 1,
                fillOpacity: 0,
                showPoints: 'never',
                spanNulls: false,
                axisPlacement: 'auto',
                gradientMode: 'none',
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
              },
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
            },
            overrides: [
              {
                matcher: {
                  id: 'byFrameRefID',
                  options: 'B',
                },
                properties: [
                  {
                    id: 'custom.lineStyle',
                    value: {
                      fill: 'dash',
                      dash: [
                        10,
                        10,
                      ],
                    },
                  },
                ],
              },
            ],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'right',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
        },
        panel(22, 'bargauge', 'Share of the monthly limit', "What share of its plan's monthly minutes has each account used, and on which plan? Orange from 90%, red at 100% (calls stop). Accounts on a plan without a limit are not shown.", { x: 12, y: 58, w: 12, h: 8 }, [
          target('A', 'vocode_usage_minutes{%(accounts)s} / on (job, instance, account) vocode_usage_limit_minutes{%(accounts)s} * on (job, instance, account) group_left (plan) vocode_plan_info{%(accounts)s}' % s, legend='{{account}} ({{plan}})', instant=true),
        ]) + {
          fieldConfig: {
            defaults: {
              unit: 'percentunit',
              min: 0,
              max: 1,
              color: {
                mode: 'thresholds',
              },
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                  {
                    color: 'orange',
                    value: 0.9,
                  },
                  {
                    color: 'red',
                    value: 1,
                  },
                ],
              },
            },
            overrides: [],
          },
          options: {
            orientation: 'horizontal',
            displayMode: 'gradient',
            showUnfilled: true,
            valueMode: 'color',
            reduceOptions: {
              calcs: [
                'lastNotNull',
              ],
              fields: '',
              values: false,
            },
            minVizHeight: 16,
            minVizWidth: 8,
            maxVizHeight: 300,
            namePlacement: 'auto',
            sizing: 'auto',
            legend: {
              displayMode: 'list',
              placement: 'bottom',
              showLegend: false,
              calcs: [],
            },
          },
        },
        row(23, 'Numbers', { h: 1, w: 24, x: 0, y: 66 }),
        panel(24, 'table', 'Phone numbers', "Which phone numbers does each account have, and will calls on them work? One row per number: its provider, whether it is active, whether an inbound agent answers it (VocodeInboundNumberWithoutAgent fires for an active, not outbound-only number without one), and whether its telephony connection is in the account's connection list (missing: calls on it fail, VocodeNumberConnectionMissing).", { x: 0, y: 67, w: 18, h: 10 }, [
          target('A', 'vocode_number_info{%(accounts)s}' % s, instant=true, format='table'),
          target('B', 'vocode_number_active{%(accounts)s}' % s, instant=true, format='table'),
          target('C', 'vocode_number_outbound_only{%(accounts)s}' % s, instant=true, format='table'),
          target('D', 'vocode_number_inbound_agent{%(accounts)s}' % s, instant=true, format='table'),
          target('E', '(vocode_number_info{%(accounts)s, connection_id!=""} and on (job, instance, account, connection_id) vocode_account_connection_info{%(accounts)s}) * 1 or vocode_number_info{%(accounts)s, connection_id!=""} * 0 or vocode_number_info{%(accounts)s, connection_id=""} * 0 - 1' % s, instant=true, format='table'),
        ]) + {
          fieldConfig: {
            defaults: {
              unit: 'short',
              color: {
                mode: 'thresholds',
              },
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              custom: {
                align: 'auto',
                inspect: false,
                cellOptions: {
                  type: 'auto',
                },
              },
            },
            overrides: [
              {
                matcher: {
                  id: 'byName',
                  options: 'Active',
                },
                properties: [
                  {
                    id: 'mappings',
                    value: [
                      {
                        type: 'value',
                        options: {
                          '0': {
                            text: 'no',
                            index: 0,
                          },
                          '1': {
                            text: 'yes',
                            index: 1,
                          },
                        },
                      },
                    ],
                  },
                ],
              },
              {
                matcher: {
                  id: 'byName',
                  options: 'Outbound only',
                },
                properties: [
                  {
                    id: 'mappings',
                    value: [
                      {
                        type: 'value',
                        options: {
                          '0': {
                            text: 'no',
                            index: 0,
                          },
                          '1': {
                            text: 'yes',
                            index: 1,
                          },
                        },
                      },
                    ],
                  },
                ],
              },
              {
                matcher: {
                  id: 'byName',
                  options: 'Inbound agent',
                },
                properties: [
                  {
                    id: 'mappings',
                    value: [
                      {
                        type: 'value',
                        options: {
                          '0': {
                            text: 'no',
                            index: 0,
                          },
                          '1': {
                            text: 'yes',
                            index: 1,
                          },
                        },
                      },
                    ],
                  },
                ],
              },
              {
                matcher: {
                  id: 'byName',
                  options: 'Connection',
                },
                properties: [
                  {
                    id: 'mappings',
                    value: [
                      {
                        type: 'value',
                        options: {
                          '1': {
                            text: 'listed',
                            color: 'green',
                            index: 0,
                          },
                          '0': {
                            text: 'missing',
                            color: 'red',
                            index: 1,
                          },
                          '-1': {
                            text: 'none',
                            index: 2,
                          },
                        },
                      },
                    ],
                  },
                  {
                    id: 'custom.cellOptions',
                    value: {
                      type: 'color-text',
                    },
                  },
                ],
              },
            ],
          },
          options: {
            showHeader: true,
            cellHeight: 'sm',
            frameIndex: 0,
            sortBy: [
              {
                displayName: 'Connection',
                desc: false,
              },
            ],
          },
          transformations: [
            {
              id: 'merge',
              options: {},
            },
            {
              id: 'organize',
              options: {
                excludeByName: {
                  Time: true,
                  __name__: true,
                  job: true,
                  'Value #A': true,
                },
                indexByName: {
                  account: 0,
                  number: 1,
                  label: 2,
                  provider: 3,
                  'Value #B': 4,
                  'Value #C': 5,
                  'Value #D': 6,
                  'Value #E': 7,
                  connection_id: 8,
                  number_id: 9,
                  instance: 10,
                },
                renameByName: {
                  'Value #B': 'Active',
                  'Value #C': 'Outbound only',
                  'Value #D': 'Inbound agent',
                  'Value #E': 'Connection',
                },
              },
            },
          ],
        },
        panel(25, 'stat', 'Numbers by provider', 'How many phone numbers does each provider carry for the selected accounts? vocode_numbers by telephony provider (twilio and vonage always shown).', { x: 18, y: 67, w: 6, h: 10 }, [
          target('A', 'sum by (provider) (vocode_numbers{%(accounts)s})' % s, legend='{{provider}}', instant=true),
        ]) + {
          fieldConfig: {
            defaults: {
              unit: 'short',
              color: {
                mode: 'thresholds',
              },
              mappings: [],
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
            },
            overrides: [],
          },
          options: {
            reduceOptions: {
              calcs: [
                'lastNotNull',
              ],
              fields: '',
              values: false,
            },
            orientation: 'auto',
            textMode: 'value_and_name',
            colorMode: 'value',
            graphMode: 'none',
            justifyMode: 'auto',
            wideLayout: true,
            showPercentChange: false,
            percentChangeColorMode: 'standard',
          },
        },
        panel(26, 'stat', 'Collectors by account', "Does every part of each account's scrape succeed? vocode_scrape_collector_success per account and collector: connections (vocode_up), usage, numbers, and calls when --collector.calls is on. A failing usage, numbers or calls collector leaves vocode_up alone; VocodeCollectorFailing fires after 15 minutes.", { x: 12, y: 49, w: 12, h: 8 }, [
          target('A', 'vocode_scrape_collector_success{%(accounts)s}' % s, legend='{{account}} {{collector}}', instant=true),
        ]) + {
          fieldConfig: {
            defaults: {
              unit: 'none',
              color: {
                mode: 'thresholds',
              },
              mappings: [
                {
                  type: 'value',
                  options: {
                    '0': {
                      text: 'failing',
                      color: 'red',
                      index: 0,
                    },
                    '1': {
                      text: 'ok',
                      color: 'green',
                      index: 1,
                    },
                  },
                },
              ],
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'red',
                    value: null,
                  },
                  {
                    color: 'green',
                    value: 1,
                  },
                ],
              },
            },
            overrides: [],
          },
          options: {
            reduceOptions: {
              calcs: [
                'lastNotNull',
              ],
              fields: '',
              values: false,
            },
            orientation: 'auto',
            textMode: 'value_and_name',
            colorMode: 'background',
            graphMode: 'none',
            justifyMode: 'auto',
            wideLayout: true,
            showPercentChange: false,
            percentChangeColorMode: 'standard',
          },
        },
        row(27, 'Calls', { h: 1, w: 24, x: 0, y: 77 }),
        panel(28, 'timeseries', 'Calls by status', "Are this account's calls failing right now? vocode_calls: the calls that started within the calls window (vocode_calls_window_seconds), or have not started yet, by status (not_started, in_progress, error, ended; other for a status the API's description does not list). Each point counts the window ending then, not calls since the previous point. VocodeCallErrorsHigh fires when error is 10% or more of error + ended, with at least 10 of them, for 10 minutes. The calls collector is off by default: call records carry transcripts and callers' phone numbers, and a busy account costs several heavy pages a scrape. Turn it on with --collector.calls; --collector.calls.window (default 15m) sets the window the counts cover, --collector.calls.max-pages (default 10) the most pages one walk reads. With it off, or while an account's calls walk fails (see Collectors by account), the Calls panels are empty.", { x: 0, y: 78, w: 12, h: 8 }, [
          target('A', 'sum by (account, status) (vocode_calls{%(accounts)s})' % s, legend='{{account}} {{status}}'),
        ]) + {
          fieldConfig: {
            defaults: {
              unit: 'short',
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineInterpolation: 'linear',
                lineWidth: 1,
                fillOpacity: 0,
                showPoints: 'never',
                spanNulls: false,
                axisPlacement: 'auto',
                gradientMode: 'none',
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
              },
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'right',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
        },
        panel(29, 'timeseries', 'Stage outcomes', 'How do the calls end? vocode_call_stage_outcomes by stage outcome (human_unanswered, call_did_not_connect, human_disconnected, bot_disconnected, transfer_unanswered, transfer_disconnected) as a share of the finished calls (status error or ended) in the calls window; calls without an outcome are not counted, so the shares need not add up to 100%. VocodeCallsNotConnecting fires when call_did_not_connect is 30% or more, with at least 10 finished calls, for 15 minutes. Empty unless the exporter runs with --collector.calls (off by default; see Calls by status).', { x: 12, y: 78, w: 12, h: 8 }, [
          target('A', 'sum by (account, stage_outcome) (vocode_call_stage_outcomes{%(accounts)s})\n/ on (account) group_left ()\n(sum by (account) (vocode_calls{%(accounts)s, status=~"error|ended"}) > 0)' % s, legend='{{account}} {{stage_outcome}}'),
        ]) + {
          fieldConfig: {
            defaults: {
              unit: 'percentunit',
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineInterpolation: 'linear',
                lineWidth: 1,
                fillOpacity: 0,
                showPoints: 'never',
                spanNulls: false,
                axisPlacement: 'auto',
                gradientMode: 'none',
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
              },
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
              max: 1,
            },
            overrides: [],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'right',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
        },
        panel(30, 'timeseries', 'Warm transfers against the steering pools', "How close are warm transfers to the steering pools' limit? Calls in progress at stage transfer_started (vocode_calls_in_progress) against the numbers in the account's Twilio steering pools, summed over its connections (dashed, vocode_twilio_steering_pool_size). Each warm transfer holds one pool number; when all are taken the API answers the next one with 429. VocodeWarmTransfersNearPoolLimit fires at 80% for 5 minutes. The pools show without the calls collector; the transfers need it. Empty unless the exporter runs with --collector.calls (off by default; see Calls by status).", { x: 0, y: 86, w: 12, h: 8 }, [
          target('A', 'sum by (account) (vocode_calls_in_progress{%(accounts)s, stage="transfer_started"})' % s, legend='{{account}} warm transfers in progress'),
          target('B', 'sum by (account) (vocode_twilio_steering_pool_size{%(accounts)s})' % s, legend='{{account}} steering-pool numbers'),
        ]) + {
          fieldConfig: {
            defaults: {
              unit: 'short',
              color: {
                mode: 'palette-classic',
              },
              custom: {
                drawStyle: 'line',
                lineInterpolation: 'stepAfter',
                lineWidth: 1,
                fillOpacity: 0,
                showPoints: 'never',
                spanNulls: false,
                axisPlacement: 'auto',
                gradientMode: 'none',
                stacking: {
                  mode: 'none',
                  group: 'A',
                },
              },
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
              min: 0,
            },
            overrides: [
              {
                matcher: {
                  id: 'byFrameRefID',
                  options: 'B',
                },
                properties: [
                  {
                    id: 'custom.lineStyle',
                    value: {
                      fill: 'dash',
                      dash: [
                        10,
                        10,
                      ],
                    },
                  },
                ],
              },
            ],
          },
          options: {
            legend: {
              displayMode: 'table',
              placement: 'right',
              showLegend: true,
              calcs: [
                'lastNotNull',
                'max',
              ],
            },
            tooltip: {
              mode: 'multi',
              sort: 'desc',
            },
          },
        },
        panel(31, 'stat', 'Newest call', "How long ago did the account's newest call start? Now minus vocode_call_last_start_timestamp_seconds, next to the calls window (vocode_calls_window_seconds). No value for an account whose walk saw no call with a start time. A newest call older than usual for the time of day can mean calls are no longer being placed. Empty unless the exporter runs with --collector.calls (off by default; see Calls by status).", { x: 12, y: 86, w: 6, h: 8 }, [
          target('A', 'time() - max by (account) (vocode_call_last_start_timestamp_seconds{%(accounts)s})' % s, legend='{{account}} newest call', instant=true),
          target('B', 'max by (account) (vocode_calls_window_seconds{%(accounts)s})' % s, legend='{{account}} window', instant=true),
        ]) + {
          fieldConfig: {
            defaults: {
              unit: 's',
              color: {
                mode: 'thresholds',
              },
              mappings: [],
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                ],
              },
            },
            overrides: [],
          },
          options: {
            reduceOptions: {
              calcs: [
                'lastNotNull',
              ],
              fields: '',
              values: false,
            },
            orientation: 'auto',
            textMode: 'value_and_name',
            colorMode: 'value',
            graphMode: 'none',
            justifyMode: 'auto',
            wideLayout: true,
            showPercentChange: false,
            percentChangeColorMode: 'standard',
          },
        },
        panel(32, 'stat', 'Calls walk truncated', "Do the calls counts cover the whole window? vocode_calls_truncated is 1 (truncated) when the account's calls walk stopped at --collector.calls.max-pages with calls of its window left unread: the Calls panels then count only the newest calls. VocodeCallsTruncated fires after 30 minutes; shorten --collector.calls.window or raise --collector.calls.max-pages. Empty unless the exporter runs with --collector.calls (off by default; see Calls by status).", { x: 18, y: 86, w: 6, h: 8 }, [
          target('A', 'max by (account) (vocode_calls_truncated{%(accounts)s})' % s, legend='{{account}}', instant=true),
        ]) + {
          fieldConfig: {
            defaults: {
              unit: 'none',
              color: {
                mode: 'thresholds',
              },
              mappings: [
                {
                  type: 'value',
                  options: {
                    '0': {
                      text: 'complete',
                      color: 'green',
                      index: 0,
                    },
                    '1': {
                      text: 'truncated',
                      color: 'orange',
                      index: 1,
                    },
                  },
                },
              ],
              thresholds: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                  {
                    color: 'orange',
                    value: 1,
                  },
                ],
              },
            },
            overrides: [],
          },
          options: {
            reduceOptions: {
              calcs: [
                'lastNotNull',
              ],
              fields: '',
              values: false,
            },
            orientation: 'auto',
            textMode: 'value_and_name',
            colorMode: 'background',
            graphMode: 'none',
            justifyMode: 'auto',
            wideLayout: true,
            showPercentChange: false,
            percentChangeColorMode: 'standard',
          },
        },
        panel(33, 'timeseries', 'Ended call duration', 'How long do the calls last? The median and 90th percentile duration of the calls that ended within the calls window, from vocode_calls_ended_by_duration (cumulative counts of ended calls lasting at most max_seconds: 5, 10, 30, 60, 120, 300, 600, 1800 s, +Inf), interpolated within a bucket by histogram_quantile: the recording rules account:vocode_calls_ended_duration_seconds:p50_window and p90_window, so this panel needs the rules of alerts/ loaded. A median that falls to seconds is a bot hanging up at once (VocodeShortCallsHigh). A call whose end is before its start, or whose duration cannot be read, counts under +Inf only. Empty unless the exporter runs with --collector.calls (off by default; see Calls by status).', { x: 0, y: 94, w: 12, h: 8 }, [
          target('A', 'max by (account) (account:vocode_calls_ended_duration_seconds:p50_window{%(accounts)s})' % s, legend='{{account}} median'),
          target('B', 'max by (account) (account:vocode_calls_ended_duration_seconds:p90_window{%(accounts)s})' % s, legend='{{account}} p90'),
        ]) + lines('s'),
        panel(34, 'timeseries', 'Short calls and human detection', 'Do the calls that end reach a human, and do they last? Shares of the calls that ended within the calls window: short (vocode_calls_short, shorter than --collector.calls.short-call, default 10s) and by human_detection_result (vocode_calls_human_detection: human, no_human for voicemail or a machine, none when no detection ran). A campaign reaching voicemail looks healthy by status; a bot that hangs up at once ends its calls without an error. VocodeShortCallsHigh fires when short calls are 50% or more, with at least 10 ended, for 15 minutes. Empty unless the exporter runs with --collector.calls (off by default; see Calls by status).', { x: 12, y: 94, w: 12, h: 8 }, [
          target('A', 'sum by (account) (vocode_calls_short{%(accounts)s})\n/ on (account)\n(sum by (account) (vocode_calls{%(accounts)s, status="ended"}) > 0)' % s, legend='{{account}} short'),
          target('B', 'sum by (account, result) (vocode_calls_human_detection{%(accounts)s})\n/ on (account) group_left ()\n(sum by (account) (vocode_calls{%(accounts)s, status="ended"}) > 0)' % s, legend='{{account}} {{result}}'),
        ]) + lines('percentunit', 1),
        row(35, 'Agents', { h: 1, w: 24, x: 0, y: 102 }),
        panel(36, 'table', 'Agents', "Which agents does each account have? One row per agent of GET /v1/agents/list (vocode_agent_info): its name (agent; its id where the name is empty or shared with another agent, the value the per-agent calls series use), its id, and whether it brings its own OpenAI account connection (whose key can be revoked or run out apart from Vocode's), has an LLM fallback and a webhook. Nothing else of an agent (prompt, keys, webhook URL) is read. --no-collector.agents turns the agents list off.", { x: 0, y: 103, w: 14, h: 10 }, [
          target('A', 'vocode_agent_info{%(accounts)s}' % s, instant=true, format='table'),
        ]) + table(['Value'],
                   ['account', 'agent', 'own_openai_connection', 'llm_fallback', 'webhook', 'agent_id', 'instance'],
                   { own_openai_connection: 'Own OpenAI connection', llm_fallback: 'LLM fallback', webhook: 'Webhook' },
                   [{ displayName: 'agent', desc: false }]),
        panel(37, 'table', 'Agents with the most errors', "Which agents fail? The ten agents with the most calls in error in the calls window (vocode_agent_calls), with their finished calls (error and ended) and short calls. One broken agent among twenty is a small error share for the account; VocodeAgentCallErrorsHigh fires when one agent's errors are 25% or more of its finished calls, with at least 10 finished, for 10 minutes. other sums the agents past --collector.calls.max-agents; unknown is calls whose agent is not in the agents list. Empty unless the exporter runs with --collector.calls and --collector.calls.by-agent (both off by default).", { x: 14, y: 103, w: 10, h: 10 }, [
          target('A', 'topk(10, sum by (account, agent) (vocode_agent_calls{%(accounts)s, status="error"}))' % s, instant=true, format='table'),
          target('B', 'sum by (account, agent) (vocode_agent_calls{%(accounts)s, status=~"error|ended"})' % s, instant=true, format='table'),
          target('C', 'sum by (account, agent) (vocode_agent_calls_short{%(accounts)s})' % s, instant=true, format='table'),
        ]) + table([],
                   ['account', 'agent', 'Value #A', 'Value #B', 'Value #C'],
                   { 'Value #A': 'Errors', 'Value #B': 'Finished', 'Value #C': 'Short' },
                   [{ displayName: 'Errors', desc: true }]) + {
          // Only the rows of the ten agents with the most errors: the
          // finished and short counts of every agent merge into them.
          transformations+: [{ id: 'filterByValue', options: { filters: [{ fieldName: 'Errors', config: { id: 'isNotNull', options: {} } }], type: 'include', match: 'any' } }],
        },
      ],
    },
}
