package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

// newModel returns a vCenter (VPX) model with one datacenter per seeded datacenter and no VMs:
// the seed supplies every VM, so the model's DC0_* VMs are never created.
func newModel(seed *Seed) *simulator.Model {
	model := simulator.VPX()
	model.Datacenter = len(seed.Datacenters)
	model.Machine = 0
	model.Host = 0 // no standalone host: its extra "Resources" pool would only confuse pool lookups
	model.ClusterHost = 2
	model.Autostart = false
	return model
}

// seeder creates the seeded inventory through the simulator's in-process SOAP round trip.
// Simulator tasks complete before their call returns, so results are read from the task object
// instead of waiting through a PropertyCollector (which would cost a filter per call).
type seeder struct {
	ctx    context.Context
	client *vim25.Client
}

// seeded is the inventory after seeding, kept for the control channel (control.go).
type seeded struct {
	vms        int
	places     map[string]*datacenterPlace
	datastores map[string]string
}

func seedInventory(ctx context.Context, model *simulator.Model, seed *Seed) (*seeded, error) {
	client, err := vim25.NewClient(ctx, model.Service)
	if err != nil {
		return nil, fmt.Errorf("in-process client: %w", err)
	}
	s := &seeder{ctx: ctx, client: client}

	dcs, err := s.modelDatacenters(len(seed.Datacenters))
	if err != nil {
		return nil, err
	}
	if err := s.renameDatacenters(dcs, seed); err != nil {
		return nil, err
	}

	result := &seeded{places: map[string]*datacenterPlace{}, datastores: map[string]string{}}
	for i := range seed.Datacenters {
		name := seed.Datacenters[i].Name
		place, datastore, n, err := s.seedDatacenter(dcs[i], &seed.Datacenters[i])
		if err != nil {
			return nil, fmt.Errorf("datacenter %q: %w", name, err)
		}
		result.vms += n
		result.places[name] = place
		result.datastores[name] = datastore
	}
	return result, nil
}

// modelDatacenters returns the model's datacenters in creation order (DC0, DC1, ...).
func (s *seeder) modelDatacenters(n int) ([]*simulator.Datacenter, error) {
	root := simulator.Map.Get(s.client.ServiceContent.RootFolder).(*simulator.Folder)
	byName := map[string]*simulator.Datacenter{}
	for _, ref := range root.ChildEntity {
		if dc, ok := simulator.Map.Get(ref).(*simulator.Datacenter); ok {
			byName[dc.Name] = dc
		}
	}
	dcs := make([]*simulator.Datacenter, n)
	for i := range dcs {
		dc, ok := byName[fmt.Sprintf("DC%d", i)]
		if !ok {
			return nil, fmt.Errorf("model datacenter DC%d not found", i)
		}
		dcs[i] = dc
	}
	return dcs, nil
}

// renameDatacenters gives the model's datacenters the seeded names. A seed may reuse a model name
// for a different position (e.g. ["DC1","DC0"]), so every rename goes through a unique interim name.
func (s *seeder) renameDatacenters(dcs []*simulator.Datacenter, seed *Seed) error {
	for i, dc := range dcs {
		if dc.Name == seed.Datacenters[i].Name {
			continue
		}
		if err := s.rename(dc.Self, fmt.Sprintf("vcsim-seed-dc-%d", i)); err != nil {
			return err
		}
	}
	for i, dc := range dcs {
		if dc.Name == seed.Datacenters[i].Name {
			continue
		}
		if err := s.rename(dc.Self, seed.Datacenters[i].Name); err != nil {
			return fmt.Errorf("datacenter %q: %w", seed.Datacenters[i].Name, err)
		}
	}
	return nil
}

func (s *seeder) rename(ref types.ManagedObjectReference, name string) error {
	res, err := methods.Rename_Task(s.ctx, s.client, &types.Rename_Task{This: ref, NewName: name})
	if err != nil {
		return fmt.Errorf("rename %s to %q: %w", ref, name, err)
	}
	if _, err := taskResult(res.Returnval); err != nil {
		return fmt.Errorf("rename %s to %q: %w", ref, name, err)
	}
	return nil
}

// datacenterPlace resolves seeded folder and pool paths within one datacenter, creating them once.
type datacenterPlace struct {
	*seeder
	folders map[string]types.ManagedObjectReference
	pools   map[string]types.ManagedObjectReference
}

func (s *seeder) seedDatacenter(dc *simulator.Datacenter, seedDC *SeedDatacenter) (*datacenterPlace, string, int, error) {
	cluster, err := datacenterCluster(dc)
	if err != nil {
		return nil, "", 0, err
	}
	clusterName := seedDC.Cluster
	if clusterName == "" {
		// Follow the model's naming (DC0_C0) relative to the seeded datacenter name.
		clusterName = seedDC.Name + "_C0"
	}
	if clusterName != cluster.Name {
		if err := s.rename(cluster.Self, clusterName); err != nil {
			return nil, "", 0, fmt.Errorf("cluster: %w", err)
		}
	}
	place := &datacenterPlace{
		seeder:  s,
		folders: map[string]types.ManagedObjectReference{"": dc.VmFolder},
		pools:   map[string]types.ManagedObjectReference{"": *cluster.ResourcePool},
	}
	for _, p := range seedDC.Folders {
		if _, err := place.folder(p); err != nil {
			return nil, "", 0, err
		}
	}
	for _, p := range seedDC.ResourcePools {
		if _, err := place.pool(p); err != nil {
			return nil, "", 0, err
		}
	}
	datastore, err := datacenterDatastore(dc)
	if err != nil {
		return nil, "", 0, err
	}
	for i := range seedDC.VMs {
		if err := place.createVM(&seedDC.VMs[i], datastore); err != nil {
			return nil, "", 0, fmt.Errorf("vm %q: %w", seedDC.VMs[i].Name, err)
		}
	}
	return place, datastore, len(seedDC.VMs), nil
}

func datacenterCluster(dc *simulator.Datacenter) (*simulator.ClusterComputeResource, error) {
	hostFolder := simulator.Map.Get(dc.HostFolder).(*simulator.Folder)
	for _, ref := range hostFolder.ChildEntity {
		if cluster, ok := simulator.Map.Get(ref).(*simulator.ClusterComputeResource); ok {
			return cluster, nil
		}
	}
	return nil, fmt.Errorf("no compute cluster in the model")
}

func datacenterDatastore(dc *simulator.Datacenter) (string, error) {
	for _, ref := range dc.Datastore {
		if ds, ok := simulator.Map.Get(ref).(*simulator.Datastore); ok {
			return ds.Name, nil
		}
	}
	return "", fmt.Errorf("no datastore in the model")
}

// folder returns the folder at path below the datacenter's VM folder, creating missing levels.
func (p *datacenterPlace) folder(path string) (types.ManagedObjectReference, error) {
	return p.ensure(p.folders, path, func(parent types.ManagedObjectReference, name string) (types.ManagedObjectReference, error) {
		res, err := methods.CreateFolder(p.ctx, p.client, &types.CreateFolder{This: parent, Name: name})
		if err != nil {
			return types.ManagedObjectReference{}, fmt.Errorf("create folder %q: %w", name, err)
		}
		return res.Returnval, nil
	})
}

// pool returns the resource pool at path below the cluster's root pool, creating missing levels.
func (p *datacenterPlace) pool(path string) (types.ManagedObjectReference, error) {
	return p.ensure(p.pools, path, func(parent types.ManagedObjectReference, name string) (types.ManagedObjectReference, error) {
		res, err := methods.CreateResourcePool(p.ctx, p.client, &types.CreateResourcePool{
			This: parent,
			Name: name,
			Spec: types.DefaultResourceConfigSpec(),
		})
		if err != nil {
			return types.ManagedObjectReference{}, fmt.Errorf("create resource pool %q: %w", name, err)
		}
		return res.Returnval, nil
	})
}

func (p *datacenterPlace) ensure(
	known map[string]types.ManagedObjectReference,
	path string,
	create func(parent types.ManagedObjectReference, name string) (types.ManagedObjectReference, error),
) (types.ManagedObjectReference, error) {
	if path == "" {
		return known[""], nil
	}
	parts, err := splitPath(path)
	if err != nil {
		return types.ManagedObjectReference{}, err
	}
	parent := known[""]
	for i := range parts {
		key := strings.Join(parts[:i+1], "/")
		ref, ok := known[key]
		if !ok {
			if ref, err = create(parent, parts[i]); err != nil {
				return types.ManagedObjectReference{}, err
			}
			known[key] = ref
		}
		parent = ref
	}
	return parent, nil
}

func (p *datacenterPlace) createVM(vm *SeedVM, datastore string) error {
	folder, err := p.folder(vm.Folder)
	if err != nil {
		return err
	}
	pool, err := p.pool(vm.ResourcePool)
	if err != nil {
		return err
	}

	spec := types.VirtualMachineConfigSpec{
		Name:         vm.Name,
		Uuid:         vm.UUID,
		InstanceUuid: vm.InstanceUUID,
		GuestId:      string(types.VirtualMachineGuestOsIdentifierOtherGuest64),
		Files:        &types.VirtualMachineFileInfo{VmPathName: "[" + datastore + "]"},
		ExtraConfig:  extraConfig(vm.ExtraConfig),
	}
	created, err := methods.CreateVM_Task(p.ctx, p.client, &types.CreateVM_Task{This: folder, Config: spec, Pool: pool})
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	result, err := taskResult(created.Returnval)
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	ref := result.(types.ManagedObjectReference)

	switch vm.PowerState {
	case poweredOn:
		err = p.powerOn(ref)
	case suspended:
		if err = p.powerOn(ref); err == nil {
			err = p.suspend(ref)
		}
	}
	if err != nil {
		return err
	}
	if vm.Template {
		// Like vCenter, vcsim drops the resource pool of a VM marked as template.
		if _, err := methods.MarkAsTemplate(p.ctx, p.client, &types.MarkAsTemplate{This: ref}); err != nil {
			return fmt.Errorf("mark as template: %w", err)
		}
	}
	return nil
}

func (p *datacenterPlace) powerOn(ref types.ManagedObjectReference) error {
	res, err := methods.PowerOnVM_Task(p.ctx, p.client, &types.PowerOnVM_Task{This: ref})
	if err == nil {
		_, err = taskResult(res.Returnval)
	}
	if err != nil {
		return fmt.Errorf("power on: %w", err)
	}
	return nil
}

func (p *datacenterPlace) suspend(ref types.ManagedObjectReference) error {
	res, err := methods.SuspendVM_Task(p.ctx, p.client, &types.SuspendVM_Task{This: ref})
	if err == nil {
		_, err = taskResult(res.Returnval)
	}
	if err != nil {
		return fmt.Errorf("suspend: %w", err)
	}
	return nil
}

// extraConfig converts the seeded map in key order, so every run yields the same property value.
func extraConfig(values map[string]string) []types.BaseOptionValue {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	options := make([]types.BaseOptionValue, 0, len(keys))
	for _, k := range keys {
		options = append(options, &types.OptionValue{Key: k, Value: values[k]})
	}
	return options
}

// taskResult reads a finished simulator task; it fails if the task did not succeed.
func taskResult(ref types.ManagedObjectReference) (types.AnyType, error) {
	task, ok := simulator.Map.Get(ref).(*simulator.Task)
	if !ok {
		return nil, fmt.Errorf("task %s not found", ref)
	}
	info := task.Info
	switch info.State {
	case types.TaskInfoStateSuccess:
		return info.Result, nil
	case types.TaskInfoStateError:
		if info.Error != nil {
			return nil, fmt.Errorf("task %s failed: %T", info.Name, info.Error.Fault)
		}
		return nil, fmt.Errorf("task %s failed", info.Name)
	default:
		return nil, fmt.Errorf("task %s still %s", info.Name, info.State)
	}
}
