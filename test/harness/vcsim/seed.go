package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Seed mirrors the TypeScript VcsimSeed in test/helpers/seed.ts.
type Seed struct {
	Username    string           `json:"username"`
	Password    string           `json:"password"`
	Datacenters []SeedDatacenter `json:"datacenters"`
}

type SeedDatacenter struct {
	Name string `json:"name"`
	// Cluster names the datacenter's compute cluster; default "<datacenter>_C0".
	Cluster       string   `json:"cluster"`
	Folders       []string `json:"folders"`
	ResourcePools []string `json:"resourcePools"`
	VMs           []SeedVM `json:"vms"`
}

type SeedVM struct {
	Name         string            `json:"name"`
	UUID         string            `json:"uuid"`
	InstanceUUID string            `json:"instanceUuid"`
	Folder       string            `json:"folder"`
	ResourcePool string            `json:"resourcePool"`
	PowerState   string            `json:"powerState"`
	Template     bool              `json:"template"`
	ExtraConfig  map[string]string `json:"extraConfig"`
}

const (
	poweredOn  = "poweredOn"
	poweredOff = "poweredOff"
	suspended  = "suspended"
)

// LoadSeed reads and validates a seed file; errors name the file and the offending field.
func LoadSeed(path string) (*Seed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read seed: %w", err)
	}
	var seed Seed
	if err := json.Unmarshal(data, &seed); err != nil {
		return nil, fmt.Errorf("%s: invalid JSON: %w", path, err)
	}
	if err := seed.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &seed, nil
}

func (s *Seed) validate() error {
	if (s.Username == "") != (s.Password == "") {
		return fmt.Errorf("username and password must be set together")
	}
	dcNames := map[string]bool{}
	for i := range s.Datacenters {
		dc := &s.Datacenters[i]
		at := fmt.Sprintf("datacenters[%d]", i)
		if dc.Name == "" {
			return fmt.Errorf("%s.name: required", at)
		}
		if dcNames[dc.Name] {
			return fmt.Errorf("%s.name: duplicate datacenter %q", at, dc.Name)
		}
		dcNames[dc.Name] = true
		for j, p := range dc.Folders {
			if _, err := splitPath(p); err != nil {
				return fmt.Errorf("%s.folders[%d]: %w", at, j, err)
			}
		}
		for j, p := range dc.ResourcePools {
			if _, err := splitPath(p); err != nil {
				return fmt.Errorf("%s.resourcePools[%d]: %w", at, j, err)
			}
		}
		for j := range dc.VMs {
			if err := dc.VMs[j].validate(); err != nil {
				return fmt.Errorf("%s.vms[%d]%w", at, j, err)
			}
		}
	}
	return nil
}

// validate returns errors starting with ".field" so the caller can prefix the VM's position.
func (vm *SeedVM) validate() error {
	if vm.Name == "" {
		return fmt.Errorf(".name: required")
	}
	if vm.UUID == "" {
		return fmt.Errorf(".uuid: required (VM %q)", vm.Name)
	}
	if vm.InstanceUUID == "" {
		return fmt.Errorf(".instanceUuid: required (VM %q)", vm.Name)
	}
	if vm.Folder != "" {
		if _, err := splitPath(vm.Folder); err != nil {
			return fmt.Errorf(".folder: %w (VM %q)", err, vm.Name)
		}
	}
	if vm.ResourcePool != "" {
		if _, err := splitPath(vm.ResourcePool); err != nil {
			return fmt.Errorf(".resourcePool: %w (VM %q)", err, vm.Name)
		}
	}
	switch vm.PowerState {
	case "":
		// Templates cannot run; other VMs default to running, as CAPV leaves them.
		if vm.Template {
			vm.PowerState = poweredOff
		} else {
			vm.PowerState = poweredOn
		}
	case poweredOn, poweredOff, suspended:
	default:
		return fmt.Errorf(".powerState: %q is not poweredOn, poweredOff or suspended (VM %q)", vm.PowerState, vm.Name)
	}
	if vm.Template && vm.PowerState != poweredOff {
		return fmt.Errorf(".powerState: a template must be poweredOff, got %q (VM %q)", vm.PowerState, vm.Name)
	}
	return nil
}

// splitPath turns "a/b" into ["a","b"]; surrounding slashes are tolerated, empty segments are not.
func splitPath(p string) ([]string, error) {
	trimmed := strings.Trim(p, "/")
	if trimmed == "" {
		return nil, fmt.Errorf("empty path %q", p)
	}
	parts := strings.Split(trimmed, "/")
	for _, part := range parts {
		if part == "" {
			return nil, fmt.Errorf("empty segment in path %q", p)
		}
	}
	return parts, nil
}
