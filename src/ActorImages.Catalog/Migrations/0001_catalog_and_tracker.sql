-- The catalog and the tracker state (docs/design.md, "The catalog" and "Tracker").
--
-- Text that is compared rather than read (md5s, paths, names) uses the C collation: bytewise order is what the
-- catalog means, and it is what an index on it does fastest, whatever the server's default locale.
--
-- Partitioning by md5 later: nothing here joins or orders by anything but an image's id or its md5. To spread
-- the catalog over partitions (PostgreSQL-compatible distributed databases, or sharding by md5), images would
-- take (md5, id) as its key, md5_first_seen is already keyed by md5, and the two global structures below (the
-- catalog_counters row and the unique path / import_key) would move to their own small tables keyed by what they
-- make unique. See CatalogStore for why commits take the counters row.

-- One row per stored upload. id is the catalog id, the HTTP cursor and upload order: commits are serialised on
-- catalog_counters, so ids grow in commit order.
CREATE TABLE images (
    id          bigserial   PRIMARY KEY,
    -- Lowercase hex, checked by CatalogStore before it writes: a regular expression here cost a third of a
    -- million-row fill.
    md5         text        COLLATE "C" NOT NULL CHECK (length(md5) = 32),
    sha256      text        COLLATE "C" NOT NULL CHECK (length(sha256) = 64),
    size        bigint      NOT NULL CHECK (size >= 0),
    media_type  text        NOT NULL,
    width       integer     NOT NULL,
    height      integer     NOT NULL,
    filename    text        COLLATE "C" NOT NULL,
    uploader    text        NOT NULL,
    protocol    text        NOT NULL CHECK (protocol IN ('P1Tcp', 'P2WebSocket', 'Http', 'Import')),
    received_at timestamptz NOT NULL,
    -- The stored relative path, '/'-separated (docs/protocols.md, P1 "Storage"); allocated by name_counters.
    path        text        COLLATE "C" NOT NULL UNIQUE,
    -- Set by `actorimages import`: the source's own id of the image, so a second import skips it.
    import_key  text        COLLATE "C"
);

-- Partial: only imported entries have a key, and the others then cost this index nothing.
CREATE UNIQUE INDEX images_import_key ON images (import_key) WHERE import_key IS NOT NULL;

-- The oldest entry with an md5 (P3/P4 GET) and with a filename (P2 DOWNLOAD/VIEW, docs/protocols.md P2).
CREATE INDEX images_md5_id ON images (md5, id);
CREATE INDEX images_filename_id ON images (filename, id);

-- The nodes holding a copy of an image, in replica order (position 0 first). No foreign key to images, here or in
-- md5_first_seen: CatalogStore writes them in the image's own transaction, a key keyed by id would tie them to
-- images' partitioning, and its per-row check would triple the time of a million-row synthetic fill.
CREATE TABLE replicas (
    image_id bigint   NOT NULL,
    position smallint NOT NULL,
    address  text     COLLATE "C" NOT NULL,
    host     text     COLLATE "C" NOT NULL,
    -- One replica per node and image is checked by CatalogStore: an index for it would cost every write.
    PRIMARY KEY (image_id, position)
);

-- Self-repair: the entries one node holds, in id order (keyset pagination).
CREATE INDEX replicas_address_image ON replicas (address, image_id);

-- Name reservations: one counter per "yyyy-MM-dd/HHmmss.ext", the number of paths handed out for it so far.
-- The first is yyyy-MM-dd/HHmmss.ext, then HHmmss-1.ext, HHmmss-2.ext … (docs/protocols.md, P1 "Storage").
CREATE TABLE name_counters (
    base text   COLLATE "C" PRIMARY KEY,
    used bigint NOT NULL CHECK (used > 0)
);

-- One row per distinct md5, numbered densely in the order it was first committed: P3 `LST <offset>` (one item
-- per md5, newest first) is then a range of seq, an index range scan at any depth, where OFFSET over a
-- DISTINCT would walk every item before the page.
CREATE TABLE md5_first_seen (
    md5      text   COLLATE "C" PRIMARY KEY,
    seq      bigint NOT NULL UNIQUE,
    first_id bigint NOT NULL
);

-- The single row every catalog commit updates: the dense md5 numbering and the totals. Taking it first in every
-- commit is what orders commits (ids, seq) and keeps the counts exact.
CREATE TABLE catalog_counters (
    id       integer PRIMARY KEY CHECK (id = 1),
    md5s     bigint  NOT NULL,
    images   bigint  NOT NULL,
    bytes    bigint  NOT NULL
);
INSERT INTO catalog_counters VALUES (1, 0, 0, 0);

-- Replicas and their bytes per host, kept with each commit and replica change so the cluster view and the
-- metrics never scan the catalog.
CREATE TABLE host_totals (
    host   text   COLLATE "C" PRIMARY KEY,
    images bigint NOT NULL,
    bytes  bigint NOT NULL
);

-- The tracker (docs/protocols.md, P3). Written only by the tracker singleton.
CREATE TABLE peers (
    ip            text        COLLATE "C" NOT NULL,
    port          integer     NOT NULL,
    salt          text        NOT NULL,
    hash          text        NOT NULL,
    registered_at timestamptz NOT NULL,
    sequence      bigint      NOT NULL UNIQUE,
    PRIMARY KEY (ip, port)
);

CREATE TABLE peer_images (
    ip       text    COLLATE "C" NOT NULL,
    port     integer NOT NULL,
    position integer NOT NULL,
    md5      text    COLLATE "C" NOT NULL,
    name     text    NOT NULL,
    PRIMARY KEY (ip, port, position),
    FOREIGN KEY (ip, port) REFERENCES peers (ip, port) ON DELETE CASCADE
);

-- version: bumped by every tracker commit, so nodes can tell a newer state from an older one.
-- sequence: the last registration sequence handed out; never reused, even after its peer left.
CREATE TABLE tracker_state (
    id       integer PRIMARY KEY CHECK (id = 1),
    version  bigint  NOT NULL,
    sequence bigint  NOT NULL
);
INSERT INTO tracker_state VALUES (1, 0, 0);
