// Command vcsim serves govmomi's vSphere simulator over HTTPS on 127.0.0.1 with an inventory
// seeded from a JSON file (the VcsimSeed type of test/helpers/seed.ts).
//
// Usage: vcsim SEED.json
//
// When ready it prints one JSON line to stdout: {"url","server","thumbprint"}. It stops when
// stdin closes or on SIGTERM/SIGINT. Diagnostics go to stderr.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"
)

type ready struct {
	URL        string `json:"url"`
	Server     string `json:"server"`
	Thumbprint string `json:"thumbprint"`
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("vcsim: ")
	if len(os.Args) != 2 {
		log.Fatal("usage: vcsim SEED.json")
	}
	if err := run(os.Args[1]); err != nil {
		log.Fatal(err)
	}
}

func run(seedPath string) error {
	seed, err := LoadSeed(seedPath)
	if err != nil {
		return err
	}

	removeScratch, err := useScratchDir()
	if err != nil {
		return err
	}
	defer removeScratch()

	started := time.Now()
	model := newModel(seed)
	if err := model.Create(); err != nil {
		return fmt.Errorf("create model: %w", err)
	}
	defer model.Remove()

	inventory, err := seedInventory(context.Background(), model, seed)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	seeded := time.Since(started)

	cert, err := selfSignedCertificate()
	if err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	model.Service.Listen = &url.URL{Host: "127.0.0.1:0"}
	if seed.Username != "" {
		// With user info on the listen URL, vcsim's SessionManager accepts only these credentials.
		model.Service.Listen.User = url.UserPassword(seed.Username, seed.Password)
	}
	server := model.Service.NewServer()
	defer server.Close()

	line, err := json.Marshal(ready{
		URL:        "https://" + server.URL.Host + server.URL.Path,
		Server:     server.URL.Host,
		Thumbprint: thumbprint(server.Certificate().Raw),
	})
	if err != nil {
		return err
	}
	log.Printf("seeded %d datacenter(s), %d VM(s) in %d ms", len(seed.Datacenters), inventory.vms, seeded.Milliseconds())
	if _, err := fmt.Fprintf(os.Stdout, "%s\n", line); err != nil {
		return err
	}

	waitForStop(inventory)
	return nil
}

// waitForStop answers commands on stdin (control.go) until it reaches EOF (the launcher went
// away) or a stop signal arrives.
func waitForStop(inventory *seeded) {
	stop := make(chan struct{}, 2)
	go serveCommands(inventory.places, inventory.datastores, stop)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-signals
		stop <- struct{}{}
	}()
	<-stop
}
