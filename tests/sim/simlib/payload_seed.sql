-- LegoCity PayloadCMS database (lcsim seed), shaped like Payload 3's Postgres adapter
-- (drizzle): serial ids, timestamp(3) with time zone, *_idx indexes, payload_* tables.
-- psql variables (set by simlib/rds.py with \set): users, pages, media, map_layers,
-- preferences, weather_entities/streetlight_entities (how many broker ids to reference) and
-- weather_width/streetlight_width (the broker's zero padding of those ids).
-- Deterministic: every value derives from the row number, so two seeds of the same sizes
-- produce the same rows and the same fingerprints.

\set ON_ERROR_STOP 1
BEGIN;

CREATE TYPE enum_users_role AS ENUM ('admin', 'editor', 'viewer');
CREATE TYPE enum_pages_status AS ENUM ('draft', 'published');
CREATE TYPE enum_map_layers_layer_type AS ENUM ('weather', 'streetlight');

CREATE TABLE users (
    id serial PRIMARY KEY,
    name varchar,
    role enum_users_role DEFAULT 'editor' NOT NULL,
    updated_at timestamp(3) with time zone DEFAULT now() NOT NULL,
    created_at timestamp(3) with time zone DEFAULT now() NOT NULL,
    email varchar NOT NULL,
    reset_password_token varchar,
    reset_password_expiration timestamp(3) with time zone,
    salt varchar,
    hash varchar,
    login_attempts numeric DEFAULT 0,
    lock_until timestamp(3) with time zone
);
CREATE UNIQUE INDEX users_email_idx ON users USING btree (email);
CREATE INDEX users_updated_at_idx ON users USING btree (updated_at);
CREATE INDEX users_created_at_idx ON users USING btree (created_at);

CREATE TABLE media (
    id serial PRIMARY KEY,
    alt varchar NOT NULL,
    updated_at timestamp(3) with time zone DEFAULT now() NOT NULL,
    created_at timestamp(3) with time zone DEFAULT now() NOT NULL,
    url varchar,
    thumbnail_u_r_l varchar,
    filename varchar,
    mime_type varchar,
    filesize numeric,
    width numeric,
    height numeric,
    focal_x numeric,
    focal_y numeric
);
CREATE UNIQUE INDEX media_filename_idx ON media USING btree (filename);
CREATE INDEX media_updated_at_idx ON media USING btree (updated_at);
CREATE INDEX media_created_at_idx ON media USING btree (created_at);

CREATE TABLE pages (
    id serial PRIMARY KEY,
    title varchar NOT NULL,
    slug varchar NOT NULL,
    content jsonb,
    hero_image_id integer REFERENCES media (id) ON DELETE SET NULL,
    author_id integer REFERENCES users (id) ON DELETE SET NULL,
    status enum_pages_status DEFAULT 'draft',
    published_at timestamp(3) with time zone,
    updated_at timestamp(3) with time zone DEFAULT now() NOT NULL,
    created_at timestamp(3) with time zone DEFAULT now() NOT NULL
);
CREATE UNIQUE INDEX pages_slug_idx ON pages USING btree (slug);
CREATE INDEX pages_hero_image_idx ON pages USING btree (hero_image_id);
CREATE INDEX pages_author_idx ON pages USING btree (author_id);
CREATE INDEX pages_updated_at_idx ON pages USING btree (updated_at);
CREATE INDEX pages_created_at_idx ON pages USING btree (created_at);

CREATE TABLE map_layers (
    id serial PRIMARY KEY,
    name varchar NOT NULL,
    layer_type enum_map_layers_layer_type NOT NULL,
    entity_id varchar NOT NULL,
    entity_type varchar NOT NULL,
    page_id integer REFERENCES pages (id) ON DELETE SET NULL,
    style jsonb,
    visible boolean DEFAULT true,
    z_index numeric,
    updated_at timestamp(3) with time zone DEFAULT now() NOT NULL,
    created_at timestamp(3) with time zone DEFAULT now() NOT NULL
);
CREATE INDEX map_layers_entity_id_idx ON map_layers USING btree (entity_id);
CREATE INDEX map_layers_page_idx ON map_layers USING btree (page_id);
CREATE INDEX map_layers_updated_at_idx ON map_layers USING btree (updated_at);
CREATE INDEX map_layers_created_at_idx ON map_layers USING btree (created_at);

CREATE TABLE payload_preferences (
    id serial PRIMARY KEY,
    key varchar,
    value jsonb,
    updated_at timestamp(3) with time zone DEFAULT now() NOT NULL,
    created_at timestamp(3) with time zone DEFAULT now() NOT NULL
);
CREATE INDEX payload_preferences_key_idx ON payload_preferences USING btree (key);
CREATE INDEX payload_preferences_updated_at_idx ON payload_preferences USING btree (updated_at);
CREATE INDEX payload_preferences_created_at_idx ON payload_preferences USING btree (created_at);

CREATE TABLE payload_preferences_rels (
    id serial PRIMARY KEY,
    "order" integer,
    parent_id integer NOT NULL REFERENCES payload_preferences (id) ON DELETE CASCADE,
    path varchar NOT NULL,
    users_id integer REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX payload_preferences_rels_order_idx ON payload_preferences_rels USING btree ("order");
CREATE INDEX payload_preferences_rels_parent_idx ON payload_preferences_rels USING btree (parent_id);
CREATE INDEX payload_preferences_rels_path_idx ON payload_preferences_rels USING btree (path);
CREATE INDEX payload_preferences_rels_users_id_idx ON payload_preferences_rels USING btree (users_id);

CREATE TABLE payload_migrations (
    id serial PRIMARY KEY,
    name varchar,
    batch numeric,
    updated_at timestamp(3) with time zone DEFAULT now() NOT NULL,
    created_at timestamp(3) with time zone DEFAULT now() NOT NULL
);
CREATE INDEX payload_migrations_updated_at_idx ON payload_migrations USING btree (updated_at);
CREATE INDEX payload_migrations_created_at_idx ON payload_migrations USING btree (created_at);

-- data -------------------------------------------------------------------------------------

INSERT INTO payload_migrations (name, batch, updated_at, created_at) VALUES
    ('20250114_093000_initial', 1, '2025-01-14 09:30:00+00', '2025-01-14 09:30:00+00'),
    ('20250203_141500_media_focal_point', 2, '2025-02-03 14:15:00+00', '2025-02-03 14:15:00+00'),
    ('20250318_101000_map_layers', 3, '2025-03-18 10:10:00+00', '2025-03-18 10:10:00+00'),
    ('20250318_101500_map_layers_entity_idx', 3, '2025-03-18 10:15:00+00', '2025-03-18 10:15:00+00'),
    ('20250611_080000_pages_status', 4, '2025-06-11 08:00:00+00', '2025-06-11 08:00:00+00'),
    ('dev', -1, '2025-06-11 08:05:00+00', '2025-06-11 08:05:00+00');

INSERT INTO users (name, role, updated_at, created_at, email, salt, hash, login_attempts)
SELECT 'User ' || g,
       (CASE WHEN g <= 3 THEN 'admin' WHEN g % 4 = 0 THEN 'viewer' ELSE 'editor' END)::enum_users_role,
       timestamptz '2025-01-15 08:00:00+00' + g * interval '37 minutes',
       timestamptz '2025-01-15 08:00:00+00' + g * interval '31 minutes',
       'user' || lpad(g::text, 4, '0') || '@legocity.example',
       md5('salt' || g),
       md5('hash' || g) || md5('hash2' || g),
       g % 3
FROM generate_series(1, :users) AS g;

INSERT INTO media (alt, updated_at, created_at, url, thumbnail_u_r_l, filename, mime_type,
                   filesize, width, height, focal_x, focal_y)
SELECT 'LegoCity picture ' || g,
       timestamptz '2025-02-01 00:00:00+00' + g * interval '11 minutes',
       timestamptz '2025-02-01 00:00:00+00' + g * interval '7 minutes',
       '/api/media/file/img-' || lpad(g::text, 6, '0') || '.webp',
       '/api/media/file/img-' || lpad(g::text, 6, '0') || '-400x300.webp',
       'img-' || lpad(g::text, 6, '0') || '.webp',
       CASE WHEN g % 5 = 0 THEN 'image/png' ELSE 'image/webp' END,
       20000 + (g * 7919) % 900000,
       640 + (g % 8) * 160,
       480 + (g % 6) * 120,
       (g * 13) % 100,
       (g * 29) % 100
FROM generate_series(1, :media) AS g;

INSERT INTO pages (title, slug, content, hero_image_id, author_id, status, published_at,
                   updated_at, created_at)
SELECT 'District page ' || g,
       'district-page-' || g,
       jsonb_build_object(
           'root', jsonb_build_object(
               'type', 'root',
               'children', jsonb_build_array(
                   jsonb_build_object('type', 'heading', 'tag', 'h2',
                                      'text', 'Block ' || g),
                   jsonb_build_object('type', 'paragraph',
                                      'text', repeat(md5('page' || g), 3))))),
       1 + (g * 17) % :media,
       1 + (g * 7) % :users,
       (CASE WHEN g % 3 = 0 THEN 'draft' ELSE 'published' END)::enum_pages_status,
       CASE WHEN g % 3 = 0 THEN NULL
            ELSE timestamptz '2025-03-01 00:00:00+00' + g * interval '13 minutes' END,
       timestamptz '2025-03-01 00:00:00+00' + g * interval '17 minutes',
       timestamptz '2025-03-01 00:00:00+00' + g * interval '13 minutes'
FROM generate_series(1, :pages) AS g;

INSERT INTO map_layers (name, layer_type, entity_id, entity_type, page_id, style, visible,
                        z_index, updated_at, created_at)
SELECT CASE WHEN g % 5 = 0 THEN 'Weather ' ELSE 'Streetlight ' END || g,
       (CASE WHEN g % 5 = 0 THEN 'weather' ELSE 'streetlight' END)::enum_map_layers_layer_type,
       CASE WHEN g % 5 = 0
            THEN 'urn:ngsi-ld:WeatherObserved:lego-city-'
                 || lpad((1 + (g / 5) % :weather_entities)::text, :weather_width, '0')
            ELSE 'urn:ngsi-ld:Streetlight:lego-city-'
                 || lpad((1 + g % :streetlight_entities)::text, :streetlight_width, '0') END,
       CASE WHEN g % 5 = 0 THEN 'WeatherObserved' ELSE 'Streetlight' END,
       1 + (g * 3) % :pages,
       jsonb_build_object('color', '#' || substr(md5('style' || g), 1, 6),
                          'radius', 4 + g % 9, 'opacity', round(((g % 10) / 10.0)::numeric, 1)),
       g % 17 <> 0,
       g % 10,
       timestamptz '2025-03-18 10:20:00+00' + g * interval '5 minutes',
       timestamptz '2025-03-18 10:20:00+00' + g * interval '3 minutes'
FROM generate_series(1, :map_layers) AS g;

INSERT INTO payload_preferences (key, value, updated_at, created_at)
SELECT CASE g % 3 WHEN 0 THEN 'pages-list' WHEN 1 THEN 'media-list' ELSE 'map_layers-list' END,
       jsonb_build_object('limit', 10 + (g % 5) * 10, 'sort', '-updatedAt',
                          'columns', jsonb_build_array('title', 'updatedAt')),
       timestamptz '2025-04-01 00:00:00+00' + g * interval '19 minutes',
       timestamptz '2025-04-01 00:00:00+00' + g * interval '19 minutes'
FROM generate_series(1, :preferences) AS g;

INSERT INTO payload_preferences_rels ("order", parent_id, path, users_id)
SELECT 1, g, 'user', 1 + g % :users
FROM generate_series(1, :preferences) AS g;

COMMIT;
ANALYZE;
