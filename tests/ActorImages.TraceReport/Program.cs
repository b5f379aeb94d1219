using ActorImages.TraceReport;

// dotnet run --project tests/ActorImages.TraceReport -c Release -- <trace.nettrace> [--top N]
if (args.Length is not (1 or 3) || (args.Length == 3 && (args[1] != "--top" || !int.TryParse(args[2], out _))))
{
    Console.Error.WriteLine("usage: ActorImages.TraceReport <trace.nettrace> [--top N]   (a dotnet-trace collect --profile dotnet-sampled-thread-time trace)");
    return 2;
}
if (!File.Exists(args[0]))
{
    Console.Error.WriteLine($"no such trace: {args[0]}");
    return 2;
}
var top = args.Length == 3 ? int.Parse(args[2]) : 40;
BusyProfile profile;
try
{
    profile = BusyProfile.Read(args[0]);
}
catch (Exception e) when (e is not OutOfMemoryException)
{
    // TraceEvent throws several kinds for a file that is not an EventPipe trace.
    Console.Error.WriteLine($"cannot read {args[0]} as a .nettrace: {e.Message}");
    return 2;
}
Console.Write(profile.Report(top));
return 0;
