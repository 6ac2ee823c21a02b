// Package image builds nimsync's container image without a Docker daemon:
// a scratch image (no base, no shell) holding the failpoint build of the
// nimsync command as its entrypoint, the plain build beside it for
// `nimsync bench`, and an /etc/passwd naming the non-root user it runs as.
//
// The image is reproducible: every timestamp in it (the files', the
// config's, the history's) is [Config.Created], files are written in a
// fixed order with fixed owners and modes, and layers are compressed by
// one gzip level, so the same binaries and time give the same digest.
// (The binaries' own reproducibility is the Go toolchain's: scripts/image
// builds them with -trimpath.)
package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Where things are in the image, and who runs it. deploy/Dockerfile and
// deploy/k8s say the same (their tests check).
const (
	// ChaosPath is the failpoint build, the image's entrypoint.
	ChaosPath = "/nimsync"
	// PlainPath is the plain build, for `nimsync bench` (failpoint
	// markers would distort its numbers).
	PlainPath = "/nimsync-plain"
	// UID and GID are the user the image runs as: not root, numeric so
	// that Kubernetes' runAsNonRoot can verify it without reading
	// /etc/passwd.
	UID = 65532
	GID = 65532
	// User is the config's user, "UID:GID".
	User = "65532:65532"
	// UserName and Home are the user's entry in /etc/passwd.
	UserName = "nimsync"
	Home     = "/home/nimsync"
)

// Config is what an image is built from.
type Config struct {
	// Chaos and Plain are the paths of the two builds of cmd/nimsync:
	// static (CGO_ENABLED=0) linux binaries.
	Chaos, Plain string
	// Created is every timestamp in the image (truncated to the second),
	// e.g. the commit's time or SOURCE_DATE_EPOCH.
	Created time.Time
	// Arch is the binaries' GOARCH (default runtime.GOARCH).
	Arch string
	// Labels go into the config (e.g. org.opencontainers.image.revision).
	Labels map[string]string
}

// Build builds the image: an OCI manifest of three layers, the base files
// (/etc/passwd, /etc/group, /tmp, the user's home), the plain build and
// the failpoint build, in that order. It reads both binaries into memory
// and compresses each layer once, so it costs about a second per 30 MB of
// binary. Build may be called concurrently.
func Build(c Config) (v1.Image, error) {
	created := c.Created.UTC().Truncate(time.Second)
	arch := c.Arch
	if arch == "" {
		arch = runtime.GOARCH
	}
	chaos, err := readBinary(c.Chaos)
	if err != nil {
		return nil, err
	}
	plain, err := readBinary(c.Plain)
	if err != nil {
		return nil, err
	}
	layers := []struct {
		files []file
		by    string
	}{
		{baseFiles(), "nimsync-image: /etc/passwd, /etc/group, /tmp, " + Home},
		{[]file{{name: PlainPath, mode: 0o755, data: plain}}, "nimsync-image: " + PlainPath + " (plain build, for nimsync bench)"},
		{[]file{{name: ChaosPath, mode: 0o755, data: chaos}}, "nimsync-image: " + ChaosPath + " (failpoint build)"},
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for _, l := range layers {
		layer, err := tarLayer(l.files, created)
		if err != nil {
			return nil, err
		}
		img, err = mutate.Append(img, mutate.Addendum{
			Layer:     layer,
			MediaType: types.OCILayer,
			History:   v1.History{Created: v1.Time{Time: created}, CreatedBy: l.by},
		})
		if err != nil {
			return nil, err
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: created}
	cf.OS, cf.Architecture = "linux", arch
	cf.Config = v1.Config{
		Entrypoint: []string{ChaosPath},
		Cmd:        []string{"--help"},
		User:       User,
		WorkingDir: Home,
		Env:        []string{"PATH=/", "HOME=" + Home, "TMPDIR=/tmp"},
		Labels:     c.Labels,
	}
	return mutate.ConfigFile(img, cf)
}

// readBinary reads a binary, refusing what is not an executable file.
func readBinary(p string) ([]byte, error) {
	if p == "" {
		return nil, errors.New("image: a binary's path is empty")
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	if !bytes.HasPrefix(b, []byte("\x7fELF")) {
		return nil, fmt.Errorf("image: %s is not an ELF binary (build it with GOOS=linux)", p)
	}
	return b, nil
}

// file is one entry of a layer: a directory when data is nil and dir is
// set.
type file struct {
	name     string
	mode     int64
	data     []byte
	dir      bool
	uid, gid int
}

// baseFiles are the first layer's: what a scratch image needs to run as a
// named non-root user.
func baseFiles() []file {
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:%s:%s:/sbin/nologin\n", UserName, UID, GID, UserName, Home)
	group := fmt.Sprintf("root:x:0:\n%s:x:%d:\n", UserName, GID)
	return []file{
		{name: "/etc", mode: 0o755, dir: true},
		{name: "/etc/group", mode: 0o644, data: []byte(group)},
		{name: "/etc/passwd", mode: 0o644, data: []byte(passwd)},
		{name: "/home", mode: 0o755, dir: true},
		{name: Home, mode: 0o755, dir: true, uid: UID, gid: GID},
		{name: "/tmp", mode: 0o1777, dir: true},
	}
}

// tarLayer makes a gzip-compressed layer of files, every time set to t.
func tarLayer(files []file, t time.Time) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{
			Name:    path.Clean(f.name)[1:], // relative, as layers are
			Mode:    f.mode,
			Uid:     f.uid,
			Gid:     f.gid,
			ModTime: t,
			Format:  tar.FormatPAX,
		}
		if f.dir {
			h.Typeflag, h.Name = tar.TypeDir, h.Name+"/"
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
}
