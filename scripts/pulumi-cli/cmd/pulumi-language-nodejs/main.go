// pulumi-language-nodejs: the project's own, small stand-in for Pulumi's Node.js language host.
//
// The real host is the Go module github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3, which the Go
// module proxy refuses to serve (403 "This module version is not available"). This program implements only what
// `pulumi preview/up/destroy/stack` need to run a Node.js program and a Node.js policy pack from an installed
// node_modules: GetPluginInfo, Handshake, GetRequiredPlugins/GetRequiredPackages, Run, RunPlugin,
// InstallDependencies (refused with a message), About and GetProgramDependencies. Every other method answers
// UNIMPLEMENTED. What it does not imitate is listed in docs/real-cli.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/blang/semver"
	pulumisdk "github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Exit code of @pulumi/pulumi's runner when it has already printed an actionable message for the user.
const exitAfterUserMessage = 32

// Bounds of the node_modules walk that finds resource plugins.
const (
	maxWalkDepth   = 6
	maxWalkEntries = 200000
)

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
}

func main() {
	flag.String("tracing", "", "ignored: this stand-in emits no traces")
	runtimeName := flag.String("runtime", "nodejs", "only nodejs is supported")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println(version.Version)
		return
	}
	if *runtimeName != "nodejs" {
		fail(fmt.Errorf("unsupported runtime %q: this stand-in runs node only", *runtimeName))
	}
	h := &host{}
	if args := flag.Args(); len(args) > 0 {
		h.engineAddress = args[0]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cancel := make(chan bool)
	go func() {
		<-ctx.Done()
		close(cancel)
	}()
	if h.engineAddress != "" {
		// Exit when the engine goes away, as every plugin does.
		if err := rpcutil.Healthcheck(ctx, h.engineAddress, 5*time.Minute, stop); err != nil {
			fail(fmt.Errorf("health check of the engine at %s: %w", h.engineAddress, err))
		}
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		fail(fmt.Errorf("could not start the language host: %w", err))
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fail(fmt.Errorf("language host stopped serving: %w", err))
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
	os.Exit(1)
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

func (h *host) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.engineAddress = req.EngineAddress
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

// pulumiField is the `pulumi` block of a package.json that ships a resource plugin.
type pulumiField struct {
	Resource bool   `json:"resource"`
	Name     string `json:"name"`
	Version  string `json:"version"`
	Server   string `json:"server"`
}

type packageJSON struct {
	Name            string            `json:"name"`
	Version         string            `json:"version"`
	Pulumi          pulumiField       `json:"pulumi"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"devDependencies"`
}

func readPackageJSON(path string) (packageJSON, error) {
	var p packageJSON
	b, err := readBounded(path, 4<<20)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return b, nil
}

// requiredPackages finds the resource plugins of the packages installed in <dir>/node_modules (deeply, following
// symbolic links once, skipping nested policy packs), as the real host does.
func requiredPackages(dir string) ([]*pulumirpc.PackageDependency, error) {
	seen := map[string]bool{}
	found := map[string]*pulumirpc.PackageDependency{}
	entries := 0
	var walk func(d string, depth int, inNodeModules bool) error
	walk = func(d string, depth int, inNodeModules bool) error {
		real, err := filepath.EvalSymlinks(d)
		if err != nil || seen[real] || depth > maxWalkDepth {
			return nil
		}
		seen[real] = true
		list, err := os.ReadDir(real)
		if err != nil {
			return nil
		}
		for _, e := range list {
			entries++
			if entries > maxWalkEntries {
				return fmt.Errorf("more than %d entries under %s/node_modules", maxWalkEntries, dir)
			}
			p := filepath.Join(real, e.Name())
			isDir := e.IsDir()
			if e.Type()&os.ModeSymlink != 0 {
				if st, err := os.Stat(p); err == nil {
					isDir = st.IsDir()
				}
			}
			switch {
			case isDir:
				if _, err := os.Stat(filepath.Join(p, "PulumiPolicy.yaml")); err == nil {
					continue
				}
				// Only node_modules and what is below it hold dependencies.
				if !inNodeModules && e.Name() != "node_modules" {
					continue
				}
				if err := walk(p, depth+1, true); err != nil {
					return err
				}
			case inNodeModules && e.Name() == "package.json":
				info, err := readPackageJSON(p)
				if err != nil || !info.Pulumi.Resource {
					continue
				}
				name := info.Pulumi.Name
				if name == "" {
					name = strings.TrimPrefix(strings.TrimPrefix(info.Name, "@pulumi/"), "@")
				}
				v := info.Pulumi.Version
				if v == "" {
					v = info.Version
				}
				if _, err := semver.ParseTolerant(v); err != nil {
					continue
				}
				found[name+"@"+v] = &pulumirpc.PackageDependency{
					Name: name, Kind: "resource", Version: "v" + strings.TrimPrefix(v, "v"), Server: info.Pulumi.Server,
				}
			}
		}
		return nil
	}
	err := walk(dir, 0, false)
	out := make([]*pulumirpc.PackageDependency, 0, len(found))
	for _, p := range found {
		out = append(out, p)
	}
	return out, err
}

func (h *host) GetRequiredPackages(
	_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	pkgs, err := requiredPackages(req.GetInfo().GetProgramDirectory())
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: pkgs}, nil
}

func (h *host) GetRequiredPlugins(
	_ context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	pkgs, err := requiredPackages(req.GetInfo().GetProgramDirectory())
	if err != nil {
		return nil, err
	}
	plugins := make([]*pulumirpc.PluginDependency, 0, len(pkgs))
	for _, p := range pkgs {
		plugins = append(plugins, &pulumirpc.PluginDependency{
			Name: p.Name, Kind: p.Kind, Version: p.Version, Server: p.Server,
		})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

// resolveModule asks node where `require` finds mod from dir (bounded to 30 s).
func resolveModule(ctx context.Context, nodeBin, dir, mod, hint string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodeBin, "-e", "process.stdout.write(require.resolve(process.argv[1]))", mod)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("cannot find %s from %s: is @pulumi/pulumi installed? %s", mod, dir, hint)
	}
	return string(out), nil
}

type runtimeOptions struct {
	typescript bool
	tsconfig   string
	nodeargs   []string
}

func parseOptions(info *pulumirpc.ProgramInfo) (runtimeOptions, error) {
	opts := runtimeOptions{typescript: true}
	if info == nil || info.Options == nil {
		return opts, nil
	}
	m := info.Options.AsMap()
	if v, ok := m["typescript"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			return opts, fmt.Errorf("runtime option typescript must be a boolean, got %v", v)
		}
		opts.typescript = b
	}
	if v, ok := m["tsconfig"].(string); ok {
		opts.tsconfig = v
	}
	if v, ok := m["nodeargs"].(string); ok && strings.TrimSpace(v) != "" {
		// Plain whitespace splitting: the stand-in does not implement shell quoting.
		opts.nodeargs = strings.Fields(v)
	}
	for _, k := range []string{"packagemanager", "typescript", "tsconfig", "nodeargs"} {
		delete(m, k)
	}
	for k := range m {
		return opts, fmt.Errorf("runtime option %q is not supported by this stand-in language host", k)
	}
	return opts, nil
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: "could not find node on the PATH"}, nil
	}
	info := req.GetInfo()
	opts, err := parseOptions(info)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	runPath, err := resolveModule(ctx, nodeBin, info.GetProgramDirectory(), "@pulumi/pulumi/cmd/run", "Run npm ci.")
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	args := append([]string{}, opts.nodeargs...)
	args = append(args, runPath)
	flagArg := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	flagArg("monitor", req.GetMonitorAddress())
	flagArg("engine", h.engineAddress)
	flagArg("organization", req.GetOrganization())
	flagArg("project", req.GetProject())
	flagArg("root-directory", info.GetRootDirectory())
	flagArg("stack", req.GetStack())
	flagArg("pwd", info.GetProgramDirectory())
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	flagArg("parallel", strconv.Itoa(int(req.GetParallel())))
	entry := info.GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	args = append(args, entry)
	args = append(args, req.GetArgs()...)

	// Config keys in the old `<namespace>:config:<name>` form, which every @pulumi/pulumi version reads.
	cfg := map[string]string{}
	for k, v := range req.GetConfig() {
		key, err := config.ParseKey(k)
		if err != nil {
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("config key %q: %v", k, err)}, nil
		}
		cfg[key.Namespace()+":config:"+key.Name()] = v
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(), "PULUMI_CONFIG="+string(cfgJSON), "PULUMI_CONFIG_SECRET_KEYS="+string(secretJSON))
	if opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}

	cmd := exec.CommandContext(ctx, nodeBin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = env
	// Node may switch its stdio to non-blocking mode: never hand it our own file descriptors.
	cmd.Stdout = struct{ io.Writer }{os.Stdout}
	cmd.Stderr = struct{ io.Writer }{os.Stderr}
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == exitAfterUserMessage {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode())}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run node: %v", err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// RunPlugin runs a Node.js policy pack (kind analyzer) or plugin from its folder.
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	ctx := server.Context()
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return errors.New("could not find node on the PATH")
	}
	info := req.GetInfo()
	dir := info.GetProgramDirectory()
	opts, err := parseOptions(info)
	if err != nil {
		return err
	}
	analyzer := req.GetKind() == "analyzer"
	mod := "@pulumi/pulumi/cmd/run-plugin"
	if analyzer {
		mod = "@pulumi/pulumi/cmd/run-policy-pack"
	}
	runPath, err := resolveModule(ctx, nodeBin, dir, mod, "Have you run npm install in "+dir+"?")
	if err != nil {
		return err
	}
	env := append([]string{}, req.GetEnv()...)
	if opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}
	args := append([]string{runPath}, opts.nodeargs...)
	if analyzer {
		// The policy pack runner takes the engine address first and the pack folder last.
		args = append(args, req.GetArgs()...)
		args = append(args, dir)
	} else {
		args = append(args, dir)
		args = append(args, req.GetArgs()...)
	}

	var proxy *pulumisdk.PolicyProxy
	if analyzer {
		// @pulumi/policy reads the stack's organization, project, stack, dry-run flag and config from the
		// environment. The engine sends them through ConfigureStack, which this proxy (from Pulumi's Go SDK)
		// receives before the pack starts; it then forwards every other call to the pack.
		proxy, stdout, err = pulumisdk.NewPolicyProxy(ctx, stdout)
		if err != nil {
			return fmt.Errorf("could not start the policy pack proxy: %w", err)
		}
		stack, err := proxy.AwaitConfiguration(ctx)
		if err != nil {
			return fmt.Errorf("could not get the stack configuration: %w", err)
		}
		if stack != nil {
			add := func(k, v string) {
				if v != "" {
					env = append(env, k+"="+v)
				}
			}
			add("PULUMI_NODEJS_ORGANIZATION", stack.Organization)
			add("PULUMI_NODEJS_PROJECT", stack.Project)
			add("PULUMI_NODEJS_STACK", stack.Stack)
			add("PULUMI_NODEJS_DRY_RUN", strconv.FormatBool(stack.DryRun))
			if stack.Config != nil {
				b, err := json.Marshal(stack.Config)
				if err != nil {
					return err
				}
				add("PULUMI_CONFIG", string(b))
			}
		}
	}

	cmd := exec.CommandContext(ctx, nodeBin, args...)
	cmd.Dir = req.GetPwd()
	if analyzer {
		cmd.Dir = dir
	}
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("could not run node: %w", err)
	}
	if proxy != nil {
		if err := proxy.Attach(ctx, cmd); err != nil {
			return fmt.Errorf("could not attach to the policy pack: %w", err)
		}
	} else if err := cmd.Wait(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return fmt.Errorf("Program exited with non-zero exit code: %d", exitErr.ExitCode())
		}
		return err
	}
	return closer.Close()
}

func (h *host) InstallDependencies(
	_ *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	msg := "pulumi-language-nodejs (oidc-guard stand-in): installs nothing; run `npm ci` in the repository instead\n"
	return server.Send(&pulumirpc.InstallDependenciesResponse{Stderr: []byte(msg)})
}

func (h *host) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return nil, errors.New("could not find node on the PATH")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, nodeBin, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("node --version: %w", err)
	}
	return &pulumirpc.AboutResponse{
		Executable: nodeBin,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
		Metadata:   map[string]string{"languageHost": "oidc-guard stand-in"},
	}, nil
}

// GetProgramDependencies lists the program's direct dependencies with the versions installed for them.
func (h *host) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := req.GetInfo().GetProgramDirectory()
	p, err := readPackageJSON(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, err
	}
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return nil, errors.New("could not find node on the PATH")
	}
	var deps []*pulumirpc.DependencyInfo
	names := []string{}
	for n := range p.Dependencies {
		names = append(names, n)
	}
	if req.GetTransitiveDependencies() {
		for n := range p.DevDependencies {
			names = append(names, n)
		}
	}
	for _, n := range names {
		v := "unknown"
		if path, err := resolveModule(ctx, nodeBin, dir, n+"/package.json", ""); err == nil {
			if installed, err := readPackageJSON(path); err == nil {
				v = installed.Version
			}
		}
		deps = append(deps, &pulumirpc.DependencyInfo{Name: n, Version: v})
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}
