package image

import (
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// RefAnnotation is the OCI annotation naming an image in a layout's index
// (what `skopeo copy oci:DIR:REF` and `crane push` look for).
const RefAnnotation = "org.opencontainers.image.ref.name"

// WriteLayout writes img as an OCI image layout into dir (created if
// missing; it must hold nothing yet), its index naming it ref (e.g.
// "nimsync:latest"; "" names none). Push it with `crane push DIR REF` or
// `skopeo copy oci:DIR docker://REF`. The index has no timestamps, so the
// same image always gives the same layout, byte for byte.
func WriteLayout(dir string, img v1.Image, ref string) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("image: %s is not empty: write a layout into a new directory", dir)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("image: %w", err)
	}
	var opts []layout.Option
	if ref != "" {
		opts = append(opts, layout.WithAnnotations(map[string]string{RefAnnotation: ref}))
	}
	if err := p.AppendImage(img, opts...); err != nil {
		return fmt.Errorf("image: %w", err)
	}
	return nil
}

// WriteTarball writes img to file as a tarball `docker load` and `podman
// load` read, tagged ref (e.g. "nimsync:latest").
func WriteTarball(file string, img v1.Image, ref string) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return fmt.Errorf("image: bad reference %q: %w", ref, err)
	}
	if err := tarball.WriteToFile(file, tag, img); err != nil {
		return fmt.Errorf("image: %w", err)
	}
	return nil
}
