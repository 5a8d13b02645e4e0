using BenchmarkDotNet.Running;
using TokenAdmin.Benchmarks;

// dotnet run -c Release --project tests/TokenAdmin.Benchmarks -- overview-load [configs] [seconds] [concurrency]
// dotnet run -c Release --project tests/TokenAdmin.Benchmarks -- provider-herd [callers] [latency ms] [config|account]
// dotnet run -c Release --project tests/TokenAdmin.Benchmarks -- updater [tokens] [latency ms] [parallelism] [one-by-one sample, 0 = all] [config|account]
// dotnet run -c Release --project tests/TokenAdmin.Benchmarks -- api-load [configs] [seconds] [concurrency] [rounds]
// dotnet run -c Release --project tests/TokenAdmin.Benchmarks -- alert-latency [rounds]
// dotnet run -c Release --project tests/TokenAdmin.Benchmarks -- micro [BenchmarkDotNet options]
// dotnet run -c Release --project tests/TokenAdmin.Benchmarks -- mail-fetch [messages] [rounds]   (needs Debian's Dovecot, see tests/run.sh)
// dotnet run -c Release --project tests/TokenAdmin.Benchmarks -- graph-fetch [messages] [rounds]  (the loopback Graph server)
if (args.Length > 0 && args[0] == "micro")
{
    BenchmarkSwitcher.FromAssembly(typeof(OverviewQueryBenchmarks).Assembly).Run(args[1..]);
    return 0;
}

if (args.Length > 0 && args[0] == "provider-herd")
{
    int Value(int index, int fallback) => args.Length > index && int.TryParse(args[index], out var v) && v > 0 ? v : fallback;
    return await ProviderHerd.RunAsync(Value(1, 10_000), TimeSpan.FromMilliseconds(Value(2, 20)), accounts: args.Length > 3 && args[3] == "account");
}

if (args.Length > 0 && args[0] == "updater")
{
    int Value(int index, int fallback) => args.Length > index && int.TryParse(args[index], out var v) && v >= 0 ? v : fallback;
    return await UpdaterThroughput.RunAsync(Math.Max(1, Value(1, 10_000)), TimeSpan.FromMilliseconds(Value(2, 20)), Math.Clamp(Value(3, 32), 1, 32), Value(4, 0),
        accounts: args.Length > 5 && args[5] == "account");
}

if (args.Length > 0 && args[0] == "api-load")
{
    int Value(int index, int fallback) => args.Length > index && int.TryParse(args[index], out var v) && v > 0 ? v : fallback;
    return await ApiLoad.RunAsync(Value(1, 50), TimeSpan.FromSeconds(Value(2, 10)), Value(3, 8), Value(4, 3));
}

if (args.Length > 0 && args[0] == "mail-fetch")
{
    int Value(int index, int fallback) => args.Length > index && int.TryParse(args[index], out var v) && v > 0 ? v : fallback;
    return await MailFetchBenchmark.RunAsync(Value(1, 1000), Value(2, 5));
}

if (args.Length > 0 && args[0] == "graph-fetch")
{
    int Value(int index, int fallback) => args.Length > index && int.TryParse(args[index], out var v) && v > 0 ? v : fallback;
    return await GraphFetchBenchmark.RunAsync(Value(1, 1000), Value(2, 5));
}

if (args.Length > 0 && args[0] == "alert-latency")
{
    return await AlertLatency.RunAsync(args.Length > 1 && int.TryParse(args[1], out var rounds) && rounds > 0 ? rounds : 40);
}

if (args.Length == 0 || args[0] == "overview-load")
{
    int Arg(int index, int fallback) => args.Length > index && int.TryParse(args[index], out var v) && v > 0 ? v : fallback;
    return await OverviewLoad.RunAsync(Arg(1, 10_000), TimeSpan.FromSeconds(Arg(2, 15)), Arg(3, 4), "Release");
}

Console.Error.WriteLine("Usage: overview-load [configs] [seconds] [concurrency] | api-load [configs] [seconds] [concurrency] [rounds] | provider-herd [callers] [latency ms] [config|account] | updater [tokens] [latency ms] [parallelism] [one-by-one sample] [config|account] | mail-fetch [messages] [rounds] | graph-fetch [messages] [rounds] | alert-latency [rounds] | micro [BenchmarkDotNet options]");
return 2;
