namespace ActorImages.Messages;

/// <summary>
/// Marker of every message that may cross a node boundary; bound to ActorImages' own serializer
/// (<c>ActorImages.Node.Serialization</c>), never to the default one.
/// </summary>
public interface IActorImagesMessage;
