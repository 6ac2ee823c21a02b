package image_test

import (
	"archive/tar"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/nimsync/nimsync/internal/image"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeBinary writes an ELF-looking file of random bytes.
func fakeBinary(t *testing.T, dir, name string) string {
	t.Helper()
	b := make([]byte, 4096)
	_, _ = rand.Read(b)
	copy(b, "\x7fELF")
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, b, 0o755))
	return p
}

// entry is a file of an image's flattened filesystem.
type entry struct {
	hdr  *tar.Header
	data []byte
}

// files flattens img into its filesystem, by path ("/etc/passwd").
func files(t *testing.T, img v1.Image) map[string]entry {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	out := map[string]entry{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		data, err := io.ReadAll(tr)
		require.NoError(t, err)
		out["/"+strings.TrimSuffix(h.Name, "/")] = entry{h, data}
	}
}

// TestBuild checks what an image holds: three OCI layers, both binaries,
// a passwd naming the numeric non-root user, the entrypoint and user in
// the config, and every timestamp the one given.
func TestBuild(t *testing.T) {
	dir := t.TempDir()
	created := time.Date(2026, 12, 7, 21, 20, 0, 0, time.UTC)
	c := image.Config{Chaos: fakeBinary(t, dir, "chaos"), Plain: fakeBinary(t, dir, "plain"), Created: created.Add(300 * time.Millisecond), Arch: "arm64",
		Labels: map[string]string{"org.opencontainers.image.revision": "abc"}}
	img, err := image.Build(c)
	require.NoError(t, err)

	mt, err := img.MediaType()
	require.NoError(t, err)
	assert.Equal(t, types.OCIManifestSchema1, mt)
	m, err := img.Manifest()
	require.NoError(t, err)
	assert.Equal(t, types.OCIConfigJSON, m.Config.MediaType)
	require.Len(t, m.Layers, 3)
	for _, l := range m.Layers {
		assert.Equal(t, types.OCILayer, l.MediaType)
	}

	cf, err := img.ConfigFile()
	require.NoError(t, err)
	assert.Equal(t, []string{image.ChaosPath}, cf.Config.Entrypoint)
	assert.Equal(t, image.User, cf.Config.User)
	uid, err := strconv.Atoi(strings.Split(cf.Config.User, ":")[0])
	require.NoError(t, err, "a numeric user: runAsNonRoot can check it")
	assert.NotZero(t, uid)
	assert.Equal(t, "linux", cf.OS)
	assert.Equal(t, "arm64", cf.Architecture)
	assert.Equal(t, "abc", cf.Config.Labels["org.opencontainers.image.revision"])
	assert.True(t, cf.Created.Time.Equal(created), "truncated to the second")
	require.Len(t, cf.History, 3)
	for _, h := range cf.History {
		assert.True(t, h.Created.Time.Equal(created))
	}

	fs := files(t, img)
	want, err := os.ReadFile(c.Chaos)
	require.NoError(t, err)
	assert.Equal(t, want, fs[image.ChaosPath].data)
	want, err = os.ReadFile(c.Plain)
	require.NoError(t, err)
	assert.Equal(t, want, fs[image.PlainPath].data)
	assert.Equal(t, int64(0o755), fs[image.ChaosPath].hdr.Mode)
	assert.Contains(t, string(fs["/etc/passwd"].data), image.UserName+":x:65532:65532:")
	assert.Contains(t, string(fs["/etc/group"].data), image.UserName+":x:65532:")
	assert.Equal(t, image.UID, fs[image.Home].hdr.Uid, "the user owns its home")
	assert.Equal(t, int64(0o1777), fs["/tmp"].hdr.Mode)
	for name, e := range fs {
		assert.True(t, e.hdr.ModTime.Equal(created), name)
	}

	_, err = image.Build(image.Config{Chaos: c.Chaos, Plain: filepath.Join(dir, "missing")})
	require.Error(t, err)
	notELF := filepath.Join(dir, "script")
	require.NoError(t, os.WriteFile(notELF, []byte("#!/bin/sh\n"), 0o755))
	_, err = image.Build(image.Config{Chaos: notELF, Plain: c.Plain})
	require.ErrorContains(t, err, "not an ELF binary")
}

// TestReproducible: the same binaries and time give the same image and a
// byte-identical layout; another time gives another digest.
func TestReproducible(t *testing.T) {
	dir := t.TempDir()
	c := image.Config{Chaos: fakeBinary(t, dir, "chaos"), Plain: fakeBinary(t, dir, "plain"), Created: time.Unix(1_765_000_000, 0)}
	var digests []v1.Hash
	for i := range 2 {
		img, err := image.Build(c)
		require.NoError(t, err)
		d, err := img.Digest()
		require.NoError(t, err)
		digests = append(digests, d)
		require.NoError(t, image.WriteLayout(filepath.Join(dir, "oci"+strconv.Itoa(i)), img, "nimsync:test"))
	}
	require.Equal(t, digests[0], digests[1])
	assert.Equal(t, tree(t, filepath.Join(dir, "oci0")), tree(t, filepath.Join(dir, "oci1")))

	c.Created = c.Created.Add(time.Second)
	img, err := image.Build(c)
	require.NoError(t, err)
	d, err := img.Digest()
	require.NoError(t, err)
	assert.NotEqual(t, digests[0], d)
}

// tree reads every file under dir, by relative path.
func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return err
	}))
	return out
}

// TestWrite reads a written layout and tarball back: the same image, named.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	img, err := image.Build(image.Config{Chaos: fakeBinary(t, dir, "chaos"), Plain: fakeBinary(t, dir, "plain")})
	require.NoError(t, err)
	want, err := img.Digest()
	require.NoError(t, err)

	oci := filepath.Join(dir, "oci")
	require.NoError(t, image.WriteLayout(oci, img, "nimsync:test"))
	idx, err := layout.ImageIndexFromPath(oci)
	require.NoError(t, err)
	im, err := idx.IndexManifest()
	require.NoError(t, err)
	require.Len(t, im.Manifests, 1)
	assert.Equal(t, want, im.Manifests[0].Digest)
	assert.Equal(t, "nimsync:test", im.Manifests[0].Annotations[image.RefAnnotation])
	require.ErrorContains(t, image.WriteLayout(oci, img, ""), "not empty")

	tb := filepath.Join(dir, "image.tar")
	require.NoError(t, image.WriteTarball(tb, img, "nimsync:test"))
	back, err := tarball.ImageFromPath(tb, nil)
	require.NoError(t, err)
	got, err := back.ConfigName()
	require.NoError(t, err)
	wantCfg, err := img.ConfigName()
	require.NoError(t, err)
	assert.Equal(t, wantCfg, got)
	require.Error(t, image.WriteTarball(tb, img, "Not A Ref"))
}

// TestDockerfile: deploy/Dockerfile, which no test builds, names the
// entrypoint, user and paths this package puts in the image.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../../deploy/Dockerfile")
	require.NoError(t, err)
	var entrypoint, user string
	var copied []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "ENTRYPOINT":
			entrypoint = strings.Join(f[1:], " ")
		case "USER":
			user = f[1]
		case "COPY":
			copied = append(copied, f[len(f)-1])
		}
	}
	assert.Equal(t, `["`+image.ChaosPath+`"]`, entrypoint)
	assert.Equal(t, image.User, user)
	assert.Contains(t, copied, image.ChaosPath)
	assert.Contains(t, copied, image.PlainPath)
	assert.Contains(t, copied, image.Home)
	assert.Contains(t, string(b), image.UserName+":x:65532:65532:")
	assert.Contains(t, string(b), "ENV PATH=/ HOME="+image.Home+" TMPDIR=/tmp")
	assert.Contains(t, string(b), "WORKDIR "+image.Home)
}
