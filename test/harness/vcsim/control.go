package main

// The control channel on stdin: tests change vSphere "after the backup" while the simulator runs.
// Each line is one JSON command; each gets one JSON line on stdout, {"ok":true} or {"error":"..."}:
//
//	{"add":{"datacenter":"dc0","vm":{...SeedVM...}}}   creates a VM as the seed would
//	{"remove":"vm-name"}                                powers off and destroys the VM of that name
//
// EOF on stdin still means stop.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

type command struct {
	Add *struct {
		Datacenter string `json:"datacenter"`
		VM         SeedVM `json:"vm"`
	} `json:"add"`
	Remove string `json:"remove"`
}

type answer struct {
	OK    bool   `json:"ok,omitempty"`
	Error string `json:"error,omitempty"`
}

// serveCommands answers commands until stdin closes, then sends on stop.
func serveCommands(places map[string]*datacenterPlace, datastores map[string]string, stop chan<- struct{}) {
	scanner := bufio.NewScanner(os.Stdin)
	scanner.Buffer(make([]byte, 64*1024), 1024*1024)
	encoder := json.NewEncoder(os.Stdout)
	for scanner.Scan() {
		var cmd command
		err := json.Unmarshal(scanner.Bytes(), &cmd)
		if err == nil {
			err = runCommand(cmd, places, datastores)
		}
		if err != nil {
			_ = encoder.Encode(answer{Error: err.Error()})
		} else {
			_ = encoder.Encode(answer{OK: true})
		}
	}
	stop <- struct{}{}
}

func runCommand(cmd command, places map[string]*datacenterPlace, datastores map[string]string) error {
	switch {
	case cmd.Add != nil:
		place, ok := places[cmd.Add.Datacenter]
		if !ok {
			return fmt.Errorf("no datacenter %q", cmd.Add.Datacenter)
		}
		if err := cmd.Add.VM.validate(); err != nil {
			return err
		}
		return place.createVM(&cmd.Add.VM, datastores[cmd.Add.Datacenter])
	case cmd.Remove != "":
		for _, place := range places {
			return place.destroyVM(cmd.Remove)
		}
		return fmt.Errorf("no datacenter")
	}
	return fmt.Errorf("expected add or remove")
}

// destroyVM powers the VM of that name off (if on) and destroys it.
func (p *datacenterPlace) destroyVM(name string) error {
	var ref *types.ManagedObjectReference
	for _, obj := range simulator.Map.All("VirtualMachine") {
		if vm, ok := obj.(*simulator.VirtualMachine); ok && vm.Name == name {
			self := vm.Self
			ref = &self
			if vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
				res, err := methods.PowerOffVM_Task(p.ctx, p.client, &types.PowerOffVM_Task{This: self})
				if err == nil {
					_, err = taskResult(res.Returnval)
				}
				if err != nil {
					return fmt.Errorf("power off: %w", err)
				}
			}
			break
		}
	}
	if ref == nil {
		return fmt.Errorf("no VM %q", name)
	}
	res, err := methods.Destroy_Task(p.ctx, p.client, &types.Destroy_Task{This: *ref})
	if err == nil {
		_, err = taskResult(res.Returnval)
	}
	if err != nil {
		return fmt.Errorf("destroy: %w", err)
	}
	return nil
}
