package deploy

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nimsync/nimsync/internal/image"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// layoutWant is what a kustomize layout must come to.
type layoutWant struct {
	dir      string
	schedule string
	shards   int32
	duration time.Duration
	keepDays int
	storage  string
	class    string // the PVC's storageClassName, "" for the cluster's default
	image    string
}

var layouts = []layoutWant{
	{"k8s/base", "23 2 * * *", 4, time.Hour, 30, "10Gi", "", "ghcr.io/nimsync/nimsync:latest"},
	{"k8s/overlays/small", "17 3 * * *", 2, 10 * time.Minute, 14, "2Gi", "", "ghcr.io/nimsync/nimsync:latest"},
	{"k8s/overlays/large", "7 1 * * *", 8, 2 * time.Hour, 90, "50Gi", "nfs-client", "ghcr.io/nimsync/nimsync:nightly"},
}

// build runs kustomize on dir in-process and decodes every object it
// makes strictly (an unknown or misspelt field is an error) into its
// k8s.io/api type.
func build(t *testing.T, dir string) (*batchv1.CronJob, *corev1.PersistentVolumeClaim) {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	require.NoError(t, err)
	var cj *batchv1.CronJob
	var pvc *corev1.PersistentVolumeClaim
	for _, r := range m.Resources() {
		y, err := r.AsYAML()
		require.NoError(t, err)
		switch kind := r.GetKind(); kind {
		case "CronJob":
			require.Nil(t, cj, "one CronJob")
			cj = new(batchv1.CronJob)
			require.NoError(t, decodeStrict(y, cj), "%s", y)
		case "PersistentVolumeClaim":
			require.Nil(t, pvc, "one PVC")
			pvc = new(corev1.PersistentVolumeClaim)
			require.NoError(t, decodeStrict(y, pvc), "%s", y)
		default:
			t.Fatalf("%s makes a %s: a kind this test does not check", dir, kind)
		}
	}
	require.NotNil(t, cj, "a CronJob")
	require.NotNil(t, pvc, "a PVC")
	return cj, pvc
}

// decodeStrict decodes YAML into v, refusing fields v's type lacks.
func decodeStrict(y []byte, v any) error {
	js, err := yaml.YAMLToJSON(y)
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(js))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

func TestDecodeStrictRefusesTypos(t *testing.T) {
	var cj batchv1.CronJob
	require.NoError(t, decodeStrict([]byte("apiVersion: batch/v1\nkind: CronJob\nspec:\n  schedule: '1 2 * * *'\n"), &cj))
	require.ErrorContains(t, decodeStrict([]byte("kind: CronJob\nspec:\n  schedul: '1 2 * * *'\n"), &cj), "schedul")
}

// TestKustomizeLayouts builds the base and each overlay and checks the
// night they describe: the schedule, an Indexed Job of one pod per shard
// with the shard count passed to nimsync, the duration and the times that
// follow from it, the results volume, a non-root pod with limits, the
// image.
func TestKustomizeLayouts(t *testing.T) {
	for _, want := range layouts {
		t.Run(want.dir, func(t *testing.T) {
			cj, pvc := build(t, want.dir)
			assert.Equal(t, want.schedule, cj.Spec.Schedule)
			require.NotNil(t, cj.Spec.TimeZone)
			assert.Equal(t, "Etc/UTC", *cj.Spec.TimeZone, "the night's date, and so its seed, is UTC's")
			assert.Equal(t, batchv1.ForbidConcurrent, cj.Spec.ConcurrencyPolicy)

			job := cj.Spec.JobTemplate.Spec
			require.NotNil(t, job.CompletionMode)
			assert.Equal(t, batchv1.IndexedCompletion, *job.CompletionMode)
			require.NotNil(t, job.Completions)
			require.NotNil(t, job.Parallelism)
			assert.Equal(t, want.shards, *job.Completions)
			assert.Equal(t, want.shards, *job.Parallelism, "every shard at once: pod 0 waits for the others")
			require.NotNil(t, job.BackoffLimitPerIndex)
			require.NotNil(t, job.PodFailurePolicy)

			assert.Equal(t, "nimsync-soak", job.Template.Labels["app.kubernetes.io/name"], "the pods carry the label a PodMonitor selects")
			assert.Equal(t, "true", job.Template.Annotations["prometheus.io/scrape"])
			pod := job.Template.Spec
			assert.Equal(t, corev1.RestartPolicyNever, pod.RestartPolicy)
			require.Len(t, pod.Containers, 1)
			c := pod.Containers[0]
			assert.Equal(t, "soak", c.Name)
			for _, r := range job.PodFailurePolicy.Rules {
				if r.OnExitCodes != nil {
					require.NotNil(t, r.OnExitCodes.ContainerName)
					assert.Equal(t, c.Name, *r.OnExitCodes.ContainerName)
				}
			}
			assert.Equal(t, want.image, c.Image)
			assert.Empty(t, c.Command, "the image's entrypoint, /nimsync")

			env := map[string]string{}
			for _, e := range c.Env {
				env[e.Name] = e.Value
				if e.ValueFrom != nil {
					env[e.Name] = e.ValueFrom.FieldRef.FieldPath
				}
			}
			args := expand(c.Args, env)
			require.GreaterOrEqual(t, len(args), 2)
			assert.Equal(t, []string{"night", "run"}, args[:2])
			sep := slices.Index(args, "--")
			require.Positive(t, sep, "the soak's flags after --")
			run, soak := args[:sep], args[sep+1:]
			assert.Equal(t, strconv.Itoa(int(want.shards)), flagValue(t, run, "--shards"))
			assert.Equal(t, strconv.Itoa(want.keepDays), flagValue(t, run, "--keep-days"))
			d, err := time.ParseDuration(flagValue(t, soak, "--duration"))
			require.NoError(t, err)
			assert.Equal(t, want.duration, d)
			assert.Equal(t, "bugs", flagValue(t, soak, "--lane"), "the nights hunt bugs: a new seed each night, compared with the last of the lane")
			wait, err := time.ParseDuration(flagValue(t, run, "--wait"))
			require.NoError(t, err)
			assert.Equal(t, d+15*time.Minute, wait, "room for one retried shard")
			require.NotNil(t, job.ActiveDeadlineSeconds)
			assert.Equal(t, int64((d + wait + 15*time.Minute).Seconds()), *job.ActiveDeadlineSeconds, "the deadline follows the duration")
			assert.Equal(t, "metadata.labels['batch.kubernetes.io/job-name']", env["NIMSYNC_JOB_NAME"])
			assert.Equal(t, "metadata.labels['batch.kubernetes.io/controller-uid']", env["NIMSYNC_JOB_UID"])

			// The results volume is the PVC, mounted where --results says.
			results := flagValue(t, run, "--results")
			var claim string
			for _, v := range pod.Volumes {
				if v.PersistentVolumeClaim != nil {
					claim = v.PersistentVolumeClaim.ClaimName
					assert.Contains(t, c.VolumeMounts, corev1.VolumeMount{Name: v.Name, MountPath: results})
				}
			}
			assert.Equal(t, pvc.Name, claim)
			assert.Equal(t, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}, pvc.Spec.AccessModes)
			assert.True(t, resource.MustParse(want.storage).Equal(pvc.Spec.Resources.Requests[corev1.ResourceStorage]), "storage %v", pvc.Spec.Resources.Requests)
			assert.Equal(t, want.class, ptrValue(pvc.Spec.StorageClassName))

			// Not root: the image's numeric user, nothing to escalate to.
			sc := pod.SecurityContext
			require.NotNil(t, sc)
			assert.True(t, ptrValue(sc.RunAsNonRoot))
			assert.Equal(t, int64(image.UID), ptrValue(sc.RunAsUser))
			assert.Equal(t, int64(image.GID), ptrValue(sc.RunAsGroup))
			assert.Equal(t, int64(image.GID), ptrValue(sc.FSGroup), "the volume is writable by the user")
			require.NotNil(t, c.SecurityContext)
			assert.False(t, ptrValue(c.SecurityContext.AllowPrivilegeEscalation))
			assert.True(t, ptrValue(c.SecurityContext.ReadOnlyRootFilesystem))
			assert.Contains(t, c.SecurityContext.Capabilities.Drop, corev1.Capability("ALL"))
			var tmp bool
			for _, m := range c.VolumeMounts {
				tmp = tmp || m.MountPath == "/tmp"
			}
			assert.True(t, tmp, "a writable /tmp beside the read-only root")

			// Limits equal to requests: Guaranteed QoS.
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				lim, ok := c.Resources.Limits[r]
				require.True(t, ok, "a %s limit", r)
				assert.True(t, lim.Equal(c.Resources.Requests[r]), "%s request = limit", r)
			}
		})
	}
}

// expand expands $(VAR) in args from env, as the kubelet does.
func expand(args []string, env map[string]string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		for k, v := range env {
			a = strings.ReplaceAll(a, "$("+k+")", v)
		}
		out[i] = a
	}
	return out
}

// flagValue is the value after flag in args.
func flagValue(t *testing.T, args []string, flag string) string {
	t.Helper()
	i := slices.Index(args, flag)
	require.True(t, i >= 0 && i+1 < len(args), "%s in %v", flag, args)
	return args[i+1]
}

func ptrValue[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
