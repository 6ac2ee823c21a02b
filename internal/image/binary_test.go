package image_test

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/nimsync/nimsync/internal/image"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readLayout returns the one image of an OCI layout.
func readLayout(t *testing.T, dir string) v1.Image {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	require.NoError(t, err)
	im, err := idx.IndexManifest()
	require.NoError(t, err)
	require.Len(t, im.Manifests, 1)
	img, err := idx.Image(im.Manifests[0].Digest)
	require.NoError(t, err)
	return img
}

// extract writes the image's file at path into dir and returns where.
func extract(t *testing.T, img v1.Image, path, dir string) string {
	t.Helper()
	e, ok := files(t, img)[path]
	require.True(t, ok, "the image has %s", path)
	out := filepath.Join(dir, filepath.Base(path))
	require.NoError(t, os.WriteFile(out, e.data, 0o755))
	return out
}

// version runs `BIN version`.
func version(t *testing.T, bin string) string {
	t.Helper()
	out, err := exec.Command(bin, "version").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return string(out)
}

// TestImageOfBuiltCommand puts a build of cmd/nimsync (go test's own
// flags, so the build cache has its packages: seconds) in an image, reads
// the image back from its layout, and runs the binary it holds.
func TestImageOfBuiltCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/nimsync")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the image holds linux binaries")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "nimsync")
	out, err := exec.Command("go", "build", "-o", bin, "../../cmd/nimsync").CombinedOutput()
	require.NoError(t, err, "%s", out)
	img, err := image.Build(image.Config{Chaos: bin, Plain: bin, Created: time.Unix(1, 0)})
	require.NoError(t, err)
	oci := filepath.Join(dir, "oci")
	require.NoError(t, image.WriteLayout(oci, img, "nimsync:test"))

	back := readLayout(t, oci)
	got := extract(t, back, image.PlainPath, t.TempDir())
	assert.Contains(t, version(t, got), "failpoints off")
}

// TestScriptImage runs scripts/image twice, as a release would: the two
// layouts are byte for byte the same; both binaries are static; the
// entrypoint is the failpoint build and the other the plain one. The
// first run builds cmd/nimsync with failpoints, static and -trimpath: a
// few minutes with a cold cache. It runs when NIMSYNC_IMAGE_CHAOS=1.
func TestScriptImage(t *testing.T) {
	if testing.Short() || os.Getenv("NIMSYNC_IMAGE_CHAOS") != "1" {
		t.Skip("the failpoint build of the image: set NIMSYNC_IMAGE_CHAOS=1 (minutes with a cold cache)")
	}
	if runtime.GOOS != "linux" {
		t.Skip("scripts/image is a bash script; the binaries must run here")
	}
	dir := t.TempDir()
	var trees []map[string][]byte
	for _, name := range []string{"a", "b"} {
		out, err := exec.Command("../../scripts/image", "--out", filepath.Join(dir, name)).CombinedOutput()
		require.NoError(t, err, "%s", out)
		trees = append(trees, tree(t, filepath.Join(dir, name)))
	}
	require.Equal(t, trees[0], trees[1], "two builds, one image")

	img := readLayout(t, filepath.Join(dir, "a"))
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	require.Equal(t, []string{image.ChaosPath}, cf.Config.Entrypoint)
	bins := t.TempDir()
	chaos, plain := extract(t, img, image.ChaosPath, bins), extract(t, img, image.PlainPath, bins)
	for _, b := range []string{chaos, plain} {
		f, err := elf.Open(b)
		require.NoError(t, err)
		for _, p := range f.Progs {
			assert.NotEqual(t, elf.PT_INTERP, p.Type, "%s is static: no dynamic loader in a scratch image", b)
		}
		require.NoError(t, f.Close())
	}
	assert.Contains(t, version(t, chaos), "failpoints on")
	assert.Contains(t, version(t, plain), "failpoints off")
}
