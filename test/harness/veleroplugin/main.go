// Command veleroplugin plays Velero's side of a plugin: it configures hashicorp/go-plugin's client
// exactly as Velero does (pkg/plugin/clientmgmt/process/client_builder.go: the VELERO_PLUGIN=hello
// cookie, protocol version 2, gRPC only, the command run with the server's arguments), launches
// the plugin, calls PluginLister.ListPlugins and the v1 RestoreItemAction's AppliesTo and Execute
// through Velero's generated gRPC clients, then kills it as Velero does after a restore.
//
// Usage: veleroplugin PLAN.json
//
// The plan names the command, its arguments and the calls (see the plan type). The outcome is one
// JSON object on stdout; the host's own log, where go-plugin re-logs every line the plugin wrote
// to stderr, is hclog JSON on stderr.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io/ioutil"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"github.com/vmware-tanzu/velero/pkg/plugin/generated"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

type call struct {
	RPC            string `json:"rpc"`
	Plugin         string `json:"plugin"`
	Item           []byte `json:"item"`
	Restore        []byte `json:"restore"`
	ItemFromBackup []byte `json:"itemFromBackup"`
	// Restore: the items in restore order, each with its resource as Velero names it (resource.group).
	Items []restoreItem `json:"items"`
}

type restoreItem struct {
	Resource       string `json:"resource"`
	Item           []byte `json:"item"`
	ItemFromBackup []byte `json:"itemFromBackup"`
}

// What became of one item of a Restore call.
type itemResult struct {
	Resource    string   `json:"resource"`
	Namespace   string   `json:"namespace"`
	Name        string   `json:"name"`
	Actions     []string `json:"actions"`
	Error       string   `json:"error,omitempty"`
	Code        string   `json:"code,omitempty"`
	SkipRestore bool     `json:"skipRestore"`
	Item        []byte   `json:"item,omitempty"`
}

type plan struct {
	Command string   `json:"command"`
	Args    []string `json:"args"`
	Calls   []call   `json:"calls"`
	// Bound on each call, so that a hung plugin fails the test instead of hanging it (Velero has none).
	CallTimeoutSeconds int `json:"callTimeoutSeconds"`
}

type pluginIdentifier struct {
	Command string `json:"command"`
	Kind    string `json:"kind"`
	Name    string `json:"name"`
}

type result struct {
	RPC   string `json:"rpc"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	Code  string `json:"code,omitempty"`
	// ListPlugins
	Plugins []pluginIdentifier `json:"plugins,omitempty"`
	// What Velero's registry would say of the list (registry.go register, ValidatePluginName).
	RegistrationErrors []string `json:"registrationErrors,omitempty"`
	// AppliesTo
	ResourceSelector *generated.ResourceSelector `json:"resourceSelector,omitempty"`
	// Execute
	Item            []byte                          `json:"item,omitempty"`
	AdditionalItems []*generated.ResourceIdentifier `json:"additionalItems,omitempty"`
	SkipRestore     bool                            `json:"skipRestore"`
	// Restore
	Items []itemResult `json:"items,omitempty"`
	Ms    int64        `json:"ms"`
}

type outcome struct {
	StartError        string   `json:"startError,omitempty"`
	Protocol          string   `json:"protocol,omitempty"`
	NegotiatedVersion int      `json:"negotiatedVersion,omitempty"`
	Network           string   `json:"network,omitempty"`
	Address           string   `json:"address,omitempty"`
	Results           []result `json:"results"`
	KillMs            int64    `json:"killMs"`
	Exited            bool     `json:"exited"`
}

// Velero's plugin kinds (pkg/plugin/framework/common/plugin_kinds.go AllPluginKinds, v1.18).
var allPluginKinds = map[string]bool{
	"BackupItemAction": true, "BackupItemActionV2": true, "VolumeSnapshotter": true, "ObjectStore": true,
	"RestoreItemAction": true, "RestoreItemActionV2": true, "DeleteItemAction": true, "ItemBlockAction": true,
}

var dns1123Subdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// validatePluginName follows Velero's common.ValidatePluginName.
func validatePluginName(name string) error {
	parts := strings.Split(name, "/")
	if len(parts) != 2 {
		return fmt.Errorf("plugin name must have exactly one '/': %s", name)
	}
	if parts[0] == "" || parts[1] == "" {
		return fmt.Errorf("plugin name parts must not be empty: %s", name)
	}
	if len(parts[0]) > 253 || !dns1123Subdomain.MatchString(parts[0]) {
		return fmt.Errorf("plugin name prefix is not a DNS-1123 subdomain: %s", name)
	}
	return nil
}

// The plugin types Velero registers with go-plugin: client halves only, as on the host.
type listerPlugin struct{ plugin.NetRPCUnsupportedPlugin }

func (listerPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return fmt.Errorf("the host serves no plugin")
}

func (listerPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (interface{}, error) {
	return generated.NewPluginListerClient(conn), nil
}

type restoreItemActionPlugin struct{ plugin.NetRPCUnsupportedPlugin }

func (restoreItemActionPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return fmt.Errorf("the host serves no plugin")
}

func (restoreItemActionPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (interface{}, error) {
	return generated.NewRestoreItemActionClient(conn), nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: veleroplugin PLAN.json")
		os.Exit(2)
	}
	raw, err := ioutil.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "veleroplugin:", err)
		os.Exit(2)
	}
	var p plan
	if err := json.Unmarshal(raw, &p); err != nil {
		fmt.Fprintln(os.Stderr, "veleroplugin: plan:", err)
		os.Exit(2)
	}
	if p.CallTimeoutSeconds <= 0 {
		p.CallTimeoutSeconds = 120
	}
	out := run(p)
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "veleroplugin:", err)
		os.Exit(2)
	}
}

func run(p plan) (out outcome) {
	// Velero wraps its logrus logger in an hclog adapter; this host logs hclog JSON directly, at
	// trace, so the test sees every line go-plugin parsed out of the plugin's stderr.
	logger := hclog.New(&hclog.LoggerOptions{Name: "velero", Level: hclog.Trace, Output: os.Stderr, JSONFormat: true})

	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  2,
			MagicCookieKey:   "VELERO_PLUGIN",
			MagicCookieValue: "hello",
		},
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Plugins: map[string]plugin.Plugin{
			"PluginLister":      listerPlugin{},
			"RestoreItemAction": restoreItemActionPlugin{},
		},
		Logger: logger,
		Cmd:    exec.CommandContext(context.Background(), p.Command, p.Args...),
	})

	out = outcome{Results: []result{}}
	// Velero kills every plugin process it started once the restore is done (CleanupClients).
	defer func() {
		started := time.Now()
		client.Kill()
		out.KillMs = time.Since(started).Milliseconds()
		out.Exited = client.Exited()
	}()

	protocol, err := client.Client()
	if err != nil {
		out.StartError = err.Error()
		return out
	}
	out.Protocol = string(client.Protocol())
	out.NegotiatedVersion = client.NegotiatedVersion()
	if addr := client.ReattachConfig(); addr != nil && addr.Addr != nil {
		out.Network = addr.Addr.Network()
		out.Address = addr.Addr.String()
	}

	for _, c := range p.Calls {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(p.CallTimeoutSeconds)*time.Second)
		started := time.Now()
		r := invoke(ctx, protocol, c)
		r.Ms = time.Since(started).Milliseconds()
		cancel()
		out.Results = append(out.Results, r)
	}
	return out
}

func invoke(ctx context.Context, protocol plugin.ClientProtocol, c call) result {
	r := result{RPC: c.RPC}
	fail := func(err error) result {
		r.Error = err.Error()
		if s, ok := status.FromError(err); ok {
			r.Code = s.Code().String()
		}
		return r
	}
	switch c.RPC {
	case "ListPlugins":
		raw, err := protocol.Dispense("PluginLister")
		if err != nil {
			return fail(err)
		}
		res, err := raw.(generated.PluginListerClient).ListPlugins(ctx, &generated.Empty{})
		if err != nil {
			return fail(err)
		}
		seen := map[string]bool{}
		for _, id := range res.Plugins {
			r.Plugins = append(r.Plugins, pluginIdentifier{Command: id.Command, Kind: id.Kind, Name: id.Name})
			if !allPluginKinds[id.Kind] {
				r.RegistrationErrors = append(r.RegistrationErrors, fmt.Sprintf("invalid plugin kind: %s", id.Kind))
			}
			if err := validatePluginName(id.Name); err != nil {
				r.RegistrationErrors = append(r.RegistrationErrors, err.Error())
			}
			if seen[id.Kind+"/"+id.Name] {
				r.RegistrationErrors = append(r.RegistrationErrors, fmt.Sprintf("duplicate plugin kind=%s name=%s", id.Kind, id.Name))
			}
			seen[id.Kind+"/"+id.Name] = true
		}
	case "AppliesTo":
		raw, err := protocol.Dispense("RestoreItemAction")
		if err != nil {
			return fail(err)
		}
		res, err := raw.(generated.RestoreItemActionClient).AppliesTo(ctx, &generated.RestoreItemActionAppliesToRequest{Plugin: c.Plugin})
		if err != nil {
			return fail(err)
		}
		r.ResourceSelector = res.ResourceSelector
	case "Execute":
		raw, err := protocol.Dispense("RestoreItemAction")
		if err != nil {
			return fail(err)
		}
		res, err := raw.(generated.RestoreItemActionClient).Execute(ctx, &generated.RestoreItemActionExecuteRequest{
			Plugin: c.Plugin, Item: c.Item, Restore: c.Restore, ItemFromBackup: c.ItemFromBackup,
		})
		if err != nil {
			return fail(err)
		}
		// Velero unmarshals the returned item even when nothing changed: it must be an object with a kind.
		var item map[string]interface{}
		if err := json.Unmarshal(res.Item, &item); err != nil {
			return fail(fmt.Errorf("returned item is not JSON: %v", err))
		}
		if _, ok := item["kind"]; !ok {
			return fail(fmt.Errorf("returned item has no kind"))
		}
		r.Item = res.Item
		r.AdditionalItems = res.AdditionalItems
		r.SkipRestore = res.SkipRestore
	case "Restore":
		items, err := restore(ctx, protocol, c)
		if err != nil {
			return fail(err)
		}
		r.Items = items
	default:
		return fail(fmt.Errorf("unknown rpc %q in the plan", c.RPC))
	}
	r.OK = true
	return r
}
