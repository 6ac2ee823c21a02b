// Command nimsync-image builds nimsync's container image from the two
// builds of cmd/nimsync, without a Docker daemon, as an OCI image layout
// (and optionally a tarball for `docker load`). scripts/image builds the
// binaries and runs it; see package internal/image for what the image
// holds.
//
// Usage:
//
//	nimsync-image --chaos BIN --plain BIN --out DIR [--tar FILE] [--ref NAME:TAG] [--epoch SECONDS] [--arch GOARCH] [--revision COMMIT]
//
// Every timestamp in the image is --epoch (default $SOURCE_DATE_EPOCH, else
// 0), so the same binaries give the same image digest, which it prints.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/nimsync/nimsync/internal/image"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run is main without the process: it returns the exit code (2 on bad
// usage, 1 when the image could not be built or written).
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nimsync-image", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		c        image.Config
		out      = fs.String("out", "", "directory for the OCI image layout (new or empty; required)")
		tarFile  = fs.String("tar", "", "also write a tarball for docker load / podman load here")
		ref      = fs.String("ref", "nimsync:latest", "the image's name in the layout's index and the tarball")
		epoch    = fs.String("epoch", os.Getenv("SOURCE_DATE_EPOCH"), "every timestamp in the image, in seconds since 1970 (default $SOURCE_DATE_EPOCH, else 0)")
		revision = fs.String("revision", "", "the commit, as the label org.opencontainers.image.revision")
	)
	fs.StringVar(&c.Chaos, "chaos", "", "the failpoint build of cmd/nimsync, the entrypoint (required)")
	fs.StringVar(&c.Plain, "plain", "", "the plain build of cmd/nimsync (required)")
	fs.StringVar(&c.Arch, "arch", "", "the binaries' GOARCH (default this machine's)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if *out == "" || c.Chaos == "" || c.Plain == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "nimsync-image: --chaos, --plain and --out are required, and nothing else (see --help)")
		return 2
	}
	secs := int64(0)
	if *epoch != "" {
		var err error
		if secs, err = strconv.ParseInt(*epoch, 10, 64); err != nil || secs < 0 {
			fmt.Fprintf(stderr, "nimsync-image: bad --epoch %q: want seconds since 1970\n", *epoch)
			return 2
		}
	}
	c.Created = time.Unix(secs, 0)
	c.Labels = map[string]string{"org.opencontainers.image.source": "https://github.com/nimsync/nimsync"}
	if *revision != "" {
		c.Labels["org.opencontainers.image.revision"] = *revision
	}
	img, err := image.Build(c)
	if err == nil {
		err = image.WriteLayout(*out, img, *ref)
	}
	if err == nil && *tarFile != "" {
		err = image.WriteTarball(*tarFile, img, *ref)
	}
	if err != nil {
		fmt.Fprintf(stderr, "nimsync-image: %v\n", err)
		return 1
	}
	d, err := img.Digest()
	if err != nil {
		fmt.Fprintf(stderr, "nimsync-image: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s %s\n", *ref, d)
	return 0
}
