using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace TokenAdmin.IntegrationTests.Infrastructure;

/// <summary>
/// The built TokenAdmin started as a real process on a free loopback port, with its own data directory, as an
/// admin runs it. Stopped (by its PID only) and its data removed on dispose.
/// </summary>
public sealed partial class TokenAdminProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private TokenAdminProcess(Process process, string dataDirectory, int port)
    {
        _process = process;
        DataDirectory = dataDirectory;
        Port = port;
    }

    public string DataDirectory { get; }
    public int Port { get; }
    public Uri BaseAddress => new($"http://127.0.0.1:{Port}/");
    public string Output => string.Join('\n', _output);

    /// <summary>The setup link the app printed on its first start, if it did.</summary>
    public string? SetupLink => SetupLinkRegex().Match(Output) is { Success: true } m ? m.Value : null;

    public static string NewDataDirectory() => Path.Combine(Path.GetTempPath(), "tokenadmin-it", Guid.NewGuid().ToString("N"));

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <param name="settings">Extra configuration ("TokenAdmin:Database:Provider" and so on), passed as environment variables.</param>
    public static async Task<TokenAdminProcess> StartAsync(string? dataDirectory = null, int? port = null, IReadOnlyDictionary<string, string>? settings = null)
    {
        // Note: a free port found here can be taken by another process before TokenAdmin binds it; with neither a port
        // nor a data directory asked for (a failed start deletes its directory), such a start is tried again on another
        // port, three tries at most.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(dataDirectory, port, settings);
            }
            catch (InvalidOperationException ex) when (port is null && dataDirectory is null && attempt < 3 && ex.Message.Contains("address already in use", StringComparison.Ordinal))
            {
            }
        }
    }

    private static async Task<TokenAdminProcess> StartOnceAsync(string? dataDirectory, int? port, IReadOnlyDictionary<string, string>? settings)
    {
        dataDirectory ??= NewDataDirectory();
        var chosenPort = port ?? FreePort();
        var process = new Process { StartInfo = StartInfo(dataDirectory, "--urls", $"http://127.0.0.1:{chosenPort}") };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            process.StartInfo.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var app = new TokenAdminProcess(process, dataDirectory, chosenPort);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(object? sender, DataReceivedEventArgs e)
        {
            if (e.Data is null)
            {
                return;
            }

            app._output.Enqueue(e.Data);
            if (e.Data.Contains("Application started", StringComparison.Ordinal))
            {
                started.TrySetResult();
            }
        }

        process.OutputDataReceived += OnLine;
        process.ErrorDataReceived += OnLine;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync();
        var first = await Task.WhenAny(started.Task, exited, Task.Delay(StartTimeout));
        if (first != started.Task)
        {
            await app.DisposeAsync();
            throw new InvalidOperationException($"TokenAdmin did not start within {StartTimeout.TotalSeconds} s. Output:\n{app.Output}");
        }

        return app;
    }

    /// <summary>Runs a console verb against <paramref name="dataDirectory"/> with the built executable.</summary>
    public static async Task<(int ExitCode, string Output)> RunVerbAsync(string dataDirectory, string? stdin, params string[] args)
    {
        using var process = new Process { StartInfo = StartInfo(dataDirectory, args) };
        process.StartInfo.RedirectStandardInput = true;
        process.Start();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteLineAsync(stdin);
        }

        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{string.Join(' ', args)}' did not finish within 60 s.");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>Starts a console verb and returns at once, for a test that stops it half-way (its output is not read).</summary>
    public static Process StartVerb(string dataDirectory, params string[] args)
    {
        var info = StartInfo(dataDirectory, args);
        info.RedirectStandardOutput = false;
        info.RedirectStandardError = false;
        return Process.Start(info)!;
    }

    private static ProcessStartInfo StartInfo(string dataDirectory, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // Content root = the project folder, as with `dotnet run`: appsettings.json and wwwroot come from there.
            WorkingDirectory = RepositoryPaths.AppProject,
        };
        info.ArgumentList.Add(RepositoryPaths.AppAssembly);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["TokenAdmin__DataDirectory"] = dataDirectory;
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["Logging__Console__FormatterName"] = "simple";
        return info;
    }

    /// <summary>The process ID, to kill this process and nothing else.</summary>
    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Kills the process at once (SIGKILL, by its PID; no shutdown hooks run), as a crashed node dies.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await _process.WaitForExitAsync(timeout.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                await _process.WaitForExitAsync(timeout.Token);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }
        finally
        {
            _process.Dispose();
        }

        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Left to the OS's temp cleanup.
        }
    }

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+/setup\?token=[A-Za-z0-9_\-]+")]
    private static partial Regex SetupLinkRegex();
}

/// <summary>Where things are in the repository, found from the test assembly's location.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string AppProject => Path.Combine(Root, "src", "TokenAdmin");

    /// <summary>The app built in the same configuration as these tests (the project reference builds it first).</summary>
    public static string AppAssembly
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name; // bin/<Configuration>/net10.0
            var path = Path.Combine(AppProject, "bin", configuration, "net10.0", "TokenAdmin.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("Build TokenAdmin first.", path);
        }
    }

    public static string Screenshots => Directory.CreateDirectory(Path.Combine(Root, "TestResults", "screenshots")).FullName;

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TokenAdmin.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("TokenAdmin.sln not found above " + AppContext.BaseDirectory);
    }
}
