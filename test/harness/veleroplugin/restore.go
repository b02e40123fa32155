package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	plugin "github.com/hashicorp/go-plugin"
	"github.com/vmware-tanzu/velero/pkg/plugin/generated"
	"google.golang.org/grpc/status"
)

// A RestoreItemAction as Velero resolves it (pkg/plugin/framework/action_resolver.go).
type resolvedAction struct {
	name     string
	selector *generated.ResourceSelector
	labels   []requirement
}

// One requirement of a label selector: the forms labels.Parse accepts without sets.
type requirement struct {
	key, op, value string
}

func parseSelector(text string) ([]requirement, error) {
	var reqs []requirement
	for _, part := range strings.Split(text, ",") {
		part = strings.TrimSpace(part)
		switch {
		case part == "":
		case strings.Contains(part, " in ") || strings.Contains(part, " notin "):
			return nil, fmt.Errorf("selector %q: set requirements are not supported by this host", text)
		case strings.Contains(part, "!="):
			kv := strings.SplitN(part, "!=", 2)
			reqs = append(reqs, requirement{strings.TrimSpace(kv[0]), "!=", strings.TrimSpace(kv[1])})
		case strings.Contains(part, "=="):
			kv := strings.SplitN(part, "==", 2)
			reqs = append(reqs, requirement{strings.TrimSpace(kv[0]), "=", strings.TrimSpace(kv[1])})
		case strings.Contains(part, "="):
			kv := strings.SplitN(part, "=", 2)
			reqs = append(reqs, requirement{strings.TrimSpace(kv[0]), "=", strings.TrimSpace(kv[1])})
		case strings.HasPrefix(part, "!"):
			reqs = append(reqs, requirement{strings.TrimSpace(part[1:]), "!", ""})
		default:
			reqs = append(reqs, requirement{part, "exists", ""})
		}
	}
	return reqs, nil
}

func matchesLabels(reqs []requirement, labels map[string]string) bool {
	for _, r := range reqs {
		v, ok := labels[r.key]
		switch r.op {
		case "exists":
			if !ok {
				return false
			}
		case "!":
			if ok {
				return false
			}
		case "=":
			if !ok || v != r.value {
				return false
			}
		case "!=":
			if ok && v == r.value {
				return false
			}
		}
	}
	return true
}

// includes follows collections.IncludesExcludes: empty or "*" includes all; excludes win.
func includes(included, excluded []string, value string) bool {
	for _, e := range excluded {
		if e == value {
			return false
		}
	}
	if len(included) == 0 {
		return true
	}
	for _, i := range included {
		if i == "*" || i == value {
			return true
		}
	}
	return false
}

func allNamespaces(s *generated.ResourceSelector) bool {
	everything := len(s.IncludedNamespaces) == 0
	for _, n := range s.IncludedNamespaces {
		if n == "*" {
			everything = true
		}
	}
	return everything && len(s.ExcludedNamespaces) == 0
}

// applies follows ResolvedAction.ShouldUse and the label check in restore.go.
func (a resolvedAction) applies(resource, namespace string, labels map[string]string) bool {
	if !includes(a.selector.IncludedResources, a.selector.ExcludedResources, resource) {
		return false
	}
	if namespace == "" && !allNamespaces(a.selector) {
		return false
	}
	if namespace != "" && !includes(a.selector.IncludedNamespaces, a.selector.ExcludedNamespaces, namespace) {
		return false
	}
	return matchesLabels(a.labels, labels)
}

// restore resolves every RestoreItemAction the plugin lists, then runs the items through them in
// order: an error or skipRestore ends an item's pipeline; each action's item feeds the next.
func restore(ctx context.Context, protocol plugin.ClientProtocol, c call) ([]itemResult, error) {
	raw, err := protocol.Dispense("PluginLister")
	if err != nil {
		return nil, err
	}
	list, err := raw.(generated.PluginListerClient).ListPlugins(ctx, &generated.Empty{})
	if err != nil {
		return nil, err
	}
	rawRIA, err := protocol.Dispense("RestoreItemAction")
	if err != nil {
		return nil, err
	}
	ria := rawRIA.(generated.RestoreItemActionClient)
	var actions []resolvedAction
	for _, id := range list.Plugins {
		if id.Kind != "RestoreItemAction" {
			continue
		}
		res, err := ria.AppliesTo(ctx, &generated.RestoreItemActionAppliesToRequest{Plugin: id.Name})
		if err != nil {
			return nil, fmt.Errorf("AppliesTo of %s: %v", id.Name, err)
		}
		selector := res.ResourceSelector
		if selector == nil {
			selector = &generated.ResourceSelector{}
		}
		reqs, err := parseSelector(selector.Selector)
		if err != nil {
			return nil, err
		}
		actions = append(actions, resolvedAction{name: id.Name, selector: selector, labels: reqs})
	}
	results := []itemResult{}
	for _, it := range c.Items {
		var obj struct {
			Metadata struct {
				Name      string            `json:"name"`
				Namespace string            `json:"namespace"`
				Labels    map[string]string `json:"labels"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(it.Item, &obj); err != nil {
			return nil, fmt.Errorf("item of %s: %v", it.Resource, err)
		}
		r := itemResult{Resource: it.Resource, Namespace: obj.Metadata.Namespace, Name: obj.Metadata.Name, Actions: []string{}}
		current := it.Item
		for _, a := range actions {
			if !a.applies(it.Resource, obj.Metadata.Namespace, obj.Metadata.Labels) {
				continue
			}
			r.Actions = append(r.Actions, a.name)
			res, err := ria.Execute(ctx, &generated.RestoreItemActionExecuteRequest{
				Plugin: a.name, Item: current, Restore: c.Restore, ItemFromBackup: it.ItemFromBackup,
			})
			if err != nil {
				r.Error = err.Error()
				if s, ok := status.FromError(err); ok {
					r.Code = s.Code().String()
				}
				break
			}
			var item map[string]interface{}
			if err := json.Unmarshal(res.Item, &item); err != nil || item["kind"] == nil {
				r.Error = fmt.Sprintf("returned item is not an object with a kind: %v", err)
				break
			}
			current = res.Item
			if res.SkipRestore {
				r.SkipRestore = true
				break
			}
		}
		if r.Error == "" {
			r.Item = current
		}
		results = append(results, r)
	}
	return results, nil
}
