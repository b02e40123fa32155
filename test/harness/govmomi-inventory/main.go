// Command govmomi-inventory is the Go reference for the inventory benchmark (bench/): it reads
// every VM of a vCenter the way govmomi users do, with the property collector over a
// ContainerView, asking for the same properties as src/vsphere/inventory.ts, in pages of the same
// size, and joins each VM to its datacenter, folder path and resource-pool path.
//
// Usage: govmomi-inventory -url https://127.0.0.1:PORT/sdk [-thumbprint AA:BB:...] [-username U]
// [-page-size 500] [-runs 1]. The password comes from GOVMOMI_PASSWORD (never an argument).
//
// For each run it prints one JSON line: {"ms","vms","entities","capv","withFolder","withPool"};
// ms covers RetrieveServiceContent, Login, the walk, DestroyView and Logout, as listVCenter does.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

var vmProperties = []string{
	"name", "config.uuid", "config.instanceUuid", "config.template", "runtime.powerState",
	"parent", "resourcePool", "config.extraConfig",
}

var treeTypes = []string{"Folder", "Datacenter", "ResourcePool", "ComputeResource"}

const capvMetadataKey = "guestinfo.metadata"

type result struct {
	Ms         float64 `json:"ms"`
	VMs        int     `json:"vms"`
	Entities   int     `json:"entities"`
	CAPV       int     `json:"capv"`
	WithFolder int     `json:"withFolder"`
	WithPool   int     `json:"withPool"`
}

type entity struct {
	name   string
	parent *types.ManagedObjectReference
}

type vm struct {
	name, biosUUID, instanceUUID, powerState string
	template, capv                           bool
	parent, pool                             *types.ManagedObjectReference
}

type resolvedVM struct {
	vm
	datacenter, folder, pool string
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("govmomi-inventory: ")
	rawURL := flag.String("url", "", "the SDK endpoint, https://host:port/sdk")
	thumbprint := flag.String("thumbprint", "", "SHA-1 thumbprint of the vCenter certificate (hex pairs)")
	username := flag.String("username", "administrator@vsphere.local", "vSphere user")
	pageSize := flag.Int("page-size", 500, "objects per RetrievePropertiesEx page")
	runs := flag.Int("runs", 1, "walks to make, one JSON line each")
	timeout := flag.Duration("timeout", 5*time.Minute, "deadline of one walk")
	flag.Parse()
	if *rawURL == "" {
		log.Fatal("-url is required")
	}
	u, err := soap.ParseURL(*rawURL)
	if err != nil {
		log.Fatalf("-url: %v", err)
	}
	password := os.Getenv("GOVMOMI_PASSWORD")
	if password == "" {
		password = "bench"
	}
	u.User = url.UserPassword(*username, password)

	for i := 0; i < *runs; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), *timeout)
		started := time.Now()
		vms, entities, err := walk(ctx, u, *thumbprint, int32(*pageSize))
		elapsed := time.Since(started)
		cancel()
		if err != nil {
			log.Fatal(err)
		}
		r := result{Ms: float64(elapsed.Microseconds()) / 1000, VMs: len(vms), Entities: entities}
		for _, v := range vms {
			if v.capv {
				r.CAPV++
			}
			if v.folder != "" {
				r.WithFolder++
			}
			if v.pool != "" {
				r.WithPool++
			}
		}
		line, _ := json.Marshal(r)
		fmt.Println(string(line))
	}
}

func walk(ctx context.Context, u *url.URL, thumbprint string, pageSize int32) ([]resolvedVM, int, error) {
	sc := soap.NewClient(u, thumbprint == "")
	if thumbprint != "" {
		sc.SetThumbprint(u.Host, thumbprint)
	}
	defer sc.CloseIdleConnections()
	client, err := vim25.NewClient(ctx, sc)
	if err != nil {
		return nil, 0, fmt.Errorf("RetrieveServiceContent: %w", err)
	}
	sm := session.NewManager(client)
	if err := sm.Login(ctx, u.User); err != nil {
		return nil, 0, fmt.Errorf("login: %w", err)
	}
	defer func() { _ = sm.Logout(context.Background()) }()

	root := client.ServiceContent.RootFolder
	v, err := view.NewManager(client).CreateContainerView(ctx, root, append([]string{"VirtualMachine"}, treeTypes...), true)
	if err != nil {
		return nil, 0, fmt.Errorf("CreateContainerView: %w", err)
	}
	defer func() { _ = v.Destroy(context.Background()) }()

	// The ObjectSpec of govmomi's ContainerView.Retrieve, paged with RetrievePropertiesEx.
	propSet := []types.PropertySpec{{Type: "VirtualMachine", PathSet: vmProperties}}
	for _, t := range treeTypes {
		propSet = append(propSet, types.PropertySpec{Type: t, PathSet: []string{"name", "parent"}})
	}
	req := types.RetrievePropertiesEx{
		This: client.ServiceContent.PropertyCollector,
		SpecSet: []types.PropertyFilterSpec{{
			ObjectSet: []types.ObjectSpec{{
				Obj:       v.Reference(),
				Skip:      types.NewBool(true),
				SelectSet: []types.BaseSelectionSpec{&types.TraversalSpec{Type: "ContainerView", Path: "view"}},
			}},
			PropSet: propSet,
		}},
		Options: types.RetrieveOptions{MaxObjects: pageSize},
	}
	entities := map[types.ManagedObjectReference]entity{}
	var vms []vm
	add := func(objects []types.ObjectContent) {
		for _, o := range objects {
			if o.Obj.Type == "VirtualMachine" {
				vms = append(vms, readVM(o))
			} else {
				entities[o.Obj] = readEntity(o)
			}
		}
	}
	res, err := methods.RetrievePropertiesEx(ctx, client, &req)
	if err != nil {
		return nil, 0, fmt.Errorf("RetrievePropertiesEx: %w", err)
	}
	for page := res.Returnval; page != nil; {
		add(page.Objects)
		if page.Token == "" {
			break
		}
		next, err := methods.ContinueRetrievePropertiesEx(ctx, client, &types.ContinueRetrievePropertiesEx{
			This:  client.ServiceContent.PropertyCollector,
			Token: page.Token,
		})
		if err != nil {
			return nil, 0, fmt.Errorf("ContinueRetrievePropertiesEx: %w", err)
		}
		page = &next.Returnval
	}
	return resolve(vms, entities, root), len(entities), nil
}

func readVM(o types.ObjectContent) vm {
	var r vm
	for _, p := range o.PropSet {
		switch p.Name {
		case "name":
			r.name, _ = p.Val.(string)
		case "config.uuid":
			s, _ := p.Val.(string)
			r.biosUUID = strings.ToLower(strings.TrimSpace(s))
		case "config.instanceUuid":
			s, _ := p.Val.(string)
			r.instanceUUID = strings.ToLower(strings.TrimSpace(s))
		case "config.template":
			r.template, _ = p.Val.(bool)
		case "runtime.powerState":
			if s, ok := p.Val.(types.VirtualMachinePowerState); ok {
				r.powerState = string(s)
			}
		case "parent":
			if ref, ok := p.Val.(types.ManagedObjectReference); ok {
				r.parent = &ref
			}
		case "resourcePool":
			if ref, ok := p.Val.(types.ManagedObjectReference); ok {
				r.pool = &ref
			}
		case "config.extraConfig":
			if options, ok := p.Val.(types.ArrayOfOptionValue); ok {
				for _, option := range options.OptionValue {
					if strings.TrimSpace(option.GetOptionValue().Key) == capvMetadataKey {
						r.capv = true
						break
					}
				}
			}
		}
	}
	return r
}

func readEntity(o types.ObjectContent) entity {
	var e entity
	for _, p := range o.PropSet {
		switch p.Name {
		case "name":
			e.name, _ = p.Val.(string)
		case "parent":
			if ref, ok := p.Val.(types.ManagedObjectReference); ok {
				e.parent = &ref
			}
		}
	}
	return e
}

func resolve(vms []vm, entities map[types.ManagedObjectReference]entity, root types.ManagedObjectReference) []resolvedVM {
	paths := map[types.ManagedObjectReference]string{}
	var pathOf func(ref types.ManagedObjectReference, depth int) string
	pathOf = func(ref types.ManagedObjectReference, depth int) string {
		if p, ok := paths[ref]; ok {
			return p
		}
		e, ok := entities[ref]
		if !ok || e.parent == nil || depth > 256 {
			return ""
		}
		parent := ""
		if *e.parent != root {
			if parent = pathOf(*e.parent, depth+1); parent == "" {
				return ""
			}
		}
		p := parent + "/" + e.name
		paths[ref] = p
		return p
	}
	datacenterOf := func(ref *types.ManagedObjectReference) string {
		for hops := 0; ref != nil && *ref != root && hops < 256; hops++ {
			e, ok := entities[*ref]
			if !ok {
				return ""
			}
			if ref.Type == "Datacenter" {
				return e.name
			}
			ref = e.parent
		}
		return ""
	}
	out := make([]resolvedVM, 0, len(vms))
	for _, v := range vms {
		r := resolvedVM{vm: v}
		if v.parent != nil {
			r.folder = pathOf(*v.parent, 0)
			r.datacenter = datacenterOf(v.parent)
		} else {
			r.datacenter = datacenterOf(v.pool)
		}
		if v.pool != nil {
			r.pool = pathOf(*v.pool, 0)
		}
		out = append(out, r)
	}
	// Sorted by name like listVCenter's result, so both sides do the same work.
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}
