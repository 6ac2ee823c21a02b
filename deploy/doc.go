// Package deploy holds the ways to run the nightly soak outside a
// developer's machine (see README.md): the Kubernetes CronJob's kustomize
// layouts (k8s/), a GitHub Actions workflow, and a Dockerfile. It has no
// code; its tests build and check those files.
package deploy
