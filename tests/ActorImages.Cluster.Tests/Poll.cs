namespace ActorImages.Cluster.Tests;

/// <summary>Waits for a condition that other nodes reach within a bounded time (pub-sub, gossip, a peer's END).</summary>
public static class Poll
{
    /// <summary>Asks until <paramref name="ask"/> gives a non-null value, at most <paramref name="within"/>.</summary>
    /// <typeparam name="T">The value.</typeparam>
    /// <param name="within">The time limit.</param>
    /// <param name="what">What is awaited, for the failure message.</param>
    /// <param name="ask">One attempt; null means not yet.</param>
    /// <param name="lastSeen">What the last attempt saw, for the failure message.</param>
    /// <returns>The first non-null value.</returns>
    /// <exception cref="TimeoutException">Still null after <paramref name="within"/>.</exception>
    public static async Task<T> ValueAsync<T>(TimeSpan within, string what, Func<Task<T?>> ask, Func<string>? lastSeen = null)
        where T : class
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            if (await ask() is { } value) return value;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"no {what} within {within.TotalSeconds:0.#} s" +
                                           (lastSeen is null ? "" : "; last seen:\n" + lastSeen()));
            await Task.Delay(100);
        }
    }

    /// <summary>Asks until <paramref name="condition"/> holds, at most <paramref name="within"/>.</summary>
    /// <param name="within">The time limit.</param>
    /// <param name="what">What is awaited, for the failure message.</param>
    /// <param name="condition">One attempt.</param>
    /// <param name="lastSeen">What the last attempt saw, for the failure message.</param>
    /// <returns>A task that completes when it holds.</returns>
    /// <exception cref="TimeoutException">It did not hold within <paramref name="within"/>.</exception>
    public static async Task UntilAsync(TimeSpan within, string what, Func<Task<bool>> condition, Func<string>? lastSeen = null) =>
        await ValueAsync(within, what, async () => await condition() ? "" : null, lastSeen);
}
