using System.Runtime.Serialization;
using System.Text.Json;
using ActorImages.Messages;
using Akka.Actor;
using Akka.Serialization;

namespace ActorImages.Node.Serialization;

/// <summary>
/// Serializes every <see cref="IActorImagesMessage"/> that crosses a node boundary (tracker commands and replies,
/// the <c>images</c> and <c>tracker</c> topics) as UTF-8 JSON, with a short manifest naming the type. Types are
/// found once, by reflection, among the Messages and Node assemblies. An unknown manifest is a
/// <see cref="SerializationException"/>: Akka drops that message and keeps the association (docs/design.md).
/// </summary>
public sealed class MessageSerializer : SerializerWithStringManifest
{
    /// <summary>The serializer id (Akka reserves ids below 100).</summary>
    public const int SerializerId = 4711;

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.General);
    private static readonly Dictionary<string, Type> TypesByManifest = typeof(IActorImagesMessage).Assembly.GetTypes()
        .Concat(typeof(MessageSerializer).Assembly.GetTypes())
        .Where(t => typeof(IActorImagesMessage).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
        .ToDictionary(ManifestOf);

    /// <summary>Creates the serializer; Akka calls this once per actor system.</summary>
    /// <param name="system">The actor system.</param>
    public MessageSerializer(ExtendedActorSystem system) : base(system) { }

    /// <inheritdoc />
    public override int Identifier => SerializerId;

    /// <inheritdoc />
    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Options);

    /// <inheritdoc />
    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!TypesByManifest.TryGetValue(manifest, out var type))
            throw new SerializationException($"unknown manifest {manifest}");
        return JsonSerializer.Deserialize(bytes, type, Options)
            ?? throw new SerializationException($"null payload for {manifest}");
    }

    /// <inheritdoc />
    public override string Manifest(object o) => ManifestOf(o.GetType());

    private static string ManifestOf(Type t) => (t.FullName ?? t.Name).Replace("ActorImages.", "").Replace('+', '.');
}
