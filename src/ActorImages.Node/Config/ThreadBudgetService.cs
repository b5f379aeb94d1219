namespace ActorImages.Node.Config;

/// <summary>
/// Bounds the thread pool under a pids limit (<see cref="ThreadBudget"/>) once the host has started — when the node's
/// own threads run (remoting, the gateways, Kestrel), so the tasks outside the pool are counted — and then follows the
/// limit every <see cref="ThreadBudget.WatchInterval"/>: a limit set, lowered, raised or removed while the node runs
/// moves the bound within seconds, each change said once in the log ("thread pool bounded: …" as a warning below
/// <see cref="ThreadBudget.AmpleWorkers"/>, "thread pool unbounded: …" when the limit no longer binds). It cannot save
/// the node from a group that others fill to its last task between two reads (README, "Limits and security").
/// </summary>
/// <param name="lifetime">The host's lifetime: the first read waits for its start.</param>
/// <param name="log">Logger.</param>
public sealed class ThreadBudgetService(IHostApplicationLifetime lifetime, ILogger<ThreadBudgetService> log) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        await using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            await started.Task;
        }
        ThreadPool.GetMaxThreads(out var configured, out _);
        long? previous = null;
        using var timer = new PeriodicTimer(ThreadBudget.WatchInterval);
        var failing = false;
        do
        {
            try
            {
                var limit = ThreadBudget.PidsLimit();
                failing = false;
                ThreadPool.GetMinThreads(out var minimum, out _);
                ThreadPool.GetMaxThreads(out var current, out var completion);
                var next = ThreadBudget.Next(limit, previous, ThreadPool.ThreadCount, Environment.ProcessorCount, minimum,
                    configured, current);
                previous = limit?.Limit;
                if (next is not var (maximum, message)) continue;
                // Fit keeps the bound at or above the pool's minimum, which nothing in the node changes: the runtime
                // refuses it only if something else raised the minimum meanwhile.
                if (!ThreadPool.SetMaxThreads(maximum, completion))
                {
                    log.LogWarning("thread pool bounded: {Reason}; but the runtime refused the bound (the pool's minimum " +
                        "is above it), so it is not in effect", message);
                    continue;
                }
                if (maximum == configured) log.LogInformation("thread pool unbounded: {Reason}", message);
                else log.Log(maximum >= ThreadBudget.AmpleWorkers ? LogLevel.Information : LogLevel.Warning,
                    "thread pool bounded: {Reason}", message);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // An unknown limit is not "no limit": the bound in effect stays; said once until a read succeeds again.
                if (!failing)
                    log.LogWarning("thread pool bound: reading the pids limit failed, the bound stays as it is: {Error}", e.Message);
                failing = true;
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
