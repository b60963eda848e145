package status

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/vocode-exporter/vocode_exporter/account"
	"github.com/vocode-exporter/vocode_exporter/vocode/vocodetest"
)

// With the agents collector on, each row shows how many agents the account
// has, "-" when the agents walk failed, and nothing of the agents
// themselves: their prompts, webhook URLs and OpenAI keys carry a canary.
func TestStatusPageAgents(t *testing.T) {
	const canary = "AGENT-canary-3Fz"
	api := vocodetest.NewServer(vocodetest.Dataset(1, 1), vocodetest.WithAgents(vocodetest.WithAgentSecrets(vocodetest.Agents(12), canary)))
	t.Cleanup(api.Close)
	broken := vocodetest.NewServer(vocodetest.Dataset(1, 1))
	t.Cleanup(broken.Close)
	broken.AddFault(vocodetest.Fault{Endpoint: vocodetest.EndpointAgents, Status: http.StatusForbidden})
	yaml := fmt.Sprintf("accounts:\n  - {name: busy, url: %q, api_key: %s}\n  - {name: broken, url: %q, api_key: %s}\n",
		api.URL, api.APIKey, broken.URL, broken.APIKey)
	accounts := loadAccounts(t, &yaml, account.Enabled{Agents: true})
	for _, a := range accounts.All() {
		a.Scrape(context.Background())
	}

	_, page := render(t, Handler(accounts, Options{MetricsPath: "/metrics", Agents: true}), "/")
	if !strings.Contains(page, "<th>Agents</th>") {
		t.Error("no Agents column with the collector on")
	}
	if r := rowOf(t, page, "busy"); !strings.Contains(r, `<td class="num agents">12</td>`) {
		t.Errorf("the row does not count the agents:\n%s", r)
	}
	if r := rowOf(t, page, "broken"); !strings.Contains(r, `<td class="num agents">-</td>`) || !strings.Contains(r, "agents: auth") {
		t.Errorf("the row of a failed agents walk shows a count, or not the failure:\n%s", r)
	}
	if strings.Contains(page, canary) {
		t.Error("the page shows something of an agent")
	}
	_, page = render(t, Handler(accounts, Options{MetricsPath: "/metrics"}), "/")
	if strings.Contains(page, "<th>Agents</th>") || strings.Contains(page, `agents">`) {
		t.Error("an Agents column with the collector off")
	}
}
