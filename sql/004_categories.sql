-- Categories are data: a tree of slugs, each with the schema of the `attributes` a listing
-- of that category may carry. GET /api/v1/categories serves this table, listings name
-- their category by slug, and src/domain/category.c loads and checks the whole set.
--
-- Inheritance: a listing's attributes are validated against its own category's schema
-- plus the schemas of all its ancestors (a phone takes electronics' brand, model and
-- color, and phones' own storage_gb ...). An attribute name may be declared only once
-- along a root-to-leaf path: a child never redeclares or overrides an ancestor's
-- attribute, so one name has one type everywhere in a subtree and a browse filter
-- attr.NAME=VALUE means the same thing for a category and all its sub-categories.
-- The loader refuses a set that breaks this rule (or has a cycle); SQL cannot check it.
--
-- This file is safe to run again (psql -f): the table is created only if missing and
-- the seed rows are upserted. Rows added outside this file are left alone; a category
-- removed from this file is not deleted.
CREATE TABLE IF NOT EXISTS categories (
    slug       text    PRIMARY KEY CHECK (slug ~ '^[a-z][a-z0-9_-]{0,39}$'),
    name       text    NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    parent     text    NULL REFERENCES categories (slug) CHECK (parent <> slug),
    -- Siblings are ordered by (position, slug); a parent comes before its subtree.
    position   integer NOT NULL DEFAULT 0,
    -- [{"name": "storage_gb", "type": "integer", "required": true}, ...];
    -- "values" (a non-empty array of strings) only for type "enum".
    attributes jsonb   NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(attributes) = 'array'),
    CONSTRAINT categories_attributes_shape CHECK (NOT jsonb_path_exists(attributes,
        '$[*] ? (@.type() != "object"
                 || !(@."name" like_regex "^[a-z][a-z0-9_]{0,39}$")
                 || !(@."type" like_regex "^(string|integer|number|boolean|enum)$")
                 || !(@."required".type() == "boolean")
                 || (@."type" == "enum" && !(@."values".type() == "array"))
                 || (@."type" != "enum" && exists (@."values")))'))
);

CREATE INDEX IF NOT EXISTS categories_parent ON categories (parent, position, slug);

-- The seed. Parents come before their children.
INSERT INTO categories (slug, name, parent, position, attributes) VALUES
('electronics', 'Electronics', NULL, 10, '[
    {"name": "brand", "type": "string", "required": true},
    {"name": "model", "type": "string", "required": false},
    {"name": "color", "type": "string", "required": false}
]'),
('phones', 'Phones', 'electronics', 10, '[
    {"name": "storage_gb", "type": "integer", "required": true},
    {"name": "unlocked", "type": "boolean", "required": false},
    {"name": "dual_sim", "type": "boolean", "required": false}
]'),
('laptops', 'Laptops', 'electronics', 20, '[
    {"name": "screen_in", "type": "number", "required": false},
    {"name": "ram_gb", "type": "integer", "required": false},
    {"name": "storage_gb", "type": "integer", "required": false},
    {"name": "cpu", "type": "string", "required": false},
    {"name": "os", "type": "enum", "required": false, "values": ["windows", "macos", "linux", "chromeos", "none"]}
]'),
('cameras', 'Cameras', 'electronics', 30, '[
    {"name": "kind", "type": "enum", "required": true,
        "values": ["dslr", "mirrorless", "compact", "action", "film", "instant"]},
    {"name": "megapixels", "type": "number", "required": false},
    {"name": "lens_mount", "type": "string", "required": false},
    {"name": "shutter_count", "type": "integer", "required": false}
]'),
('audio', 'Audio', 'electronics', 40, '[
    {"name": "kind", "type": "enum", "required": true,
        "values": ["headphones", "earbuds", "speaker", "soundbar", "amplifier", "turntable", "microphone"]},
    {"name": "wireless", "type": "boolean", "required": false},
    {"name": "noise_cancelling", "type": "boolean", "required": false}
]'),
('clothing', 'Clothing', NULL, 20, '[
    {"name": "gender", "type": "enum", "required": false, "values": ["women", "men", "unisex", "kids"]},
    {"name": "brand", "type": "string", "required": false},
    {"name": "material", "type": "string", "required": false},
    {"name": "color", "type": "string", "required": false}
]'),
('tops', 'Tops', 'clothing', 10, '[
    {"name": "size", "type": "enum", "required": true, "values": ["XS", "S", "M", "L", "XL", "XXL"]},
    {"name": "sleeve", "type": "enum", "required": false, "values": ["sleeveless", "short", "long"]}
]'),
('bottoms', 'Trousers and skirts', 'clothing', 20, '[
    {"name": "size", "type": "enum", "required": true, "values": ["XS", "S", "M", "L", "XL", "XXL"]},
    {"name": "waist_cm", "type": "integer", "required": false},
    {"name": "length_cm", "type": "integer", "required": false}
]'),
('shoes', 'Shoes', 'clothing', 30, '[
    {"name": "size_eu", "type": "number", "required": true},
    {"name": "kind", "type": "enum", "required": false,
        "values": ["sneakers", "boots", "sandals", "formal", "sports", "slippers"]}
]'),
('furniture', 'Furniture', NULL, 30, '[
    {"name": "material", "type": "string", "required": false},
    {"name": "color", "type": "string", "required": false},
    {"name": "width_cm", "type": "integer", "required": false},
    {"name": "depth_cm", "type": "integer", "required": false},
    {"name": "height_cm", "type": "integer", "required": false},
    {"name": "assembly_required", "type": "boolean", "required": false}
]'),
('sofas', 'Sofas', 'furniture', 10, '[
    {"name": "seats", "type": "integer", "required": true},
    {"name": "sofa_bed", "type": "boolean", "required": false}
]'),
('tables', 'Tables', 'furniture', 20, '[
    {"name": "shape", "type": "enum", "required": false, "values": ["round", "oval", "square", "rectangular"]},
    {"name": "seats", "type": "integer", "required": false},
    {"name": "extendable", "type": "boolean", "required": false}
]'),
('books', 'Books', NULL, 40, '[
    {"name": "author", "type": "string", "required": true},
    {"name": "isbn", "type": "string", "required": false},
    {"name": "language", "type": "string", "required": false},
    {"name": "format", "type": "enum", "required": false, "values": ["hardcover", "paperback", "ebook"]},
    {"name": "publisher", "type": "string", "required": false},
    {"name": "year", "type": "integer", "required": false}
]'),
('textbooks', 'Textbooks', 'books', 10, '[
    {"name": "subject", "type": "string", "required": false},
    {"name": "edition", "type": "integer", "required": false}
]'),
('sports', 'Sports', NULL, 50, '[
    {"name": "sport", "type": "string", "required": false},
    {"name": "brand", "type": "string", "required": false}
]'),
('bicycles', 'Bicycles', 'sports', 10, '[
    {"name": "kind", "type": "enum", "required": true,
        "values": ["road", "mountain", "gravel", "hybrid", "city", "bmx", "kids"]},
    {"name": "frame_size_cm", "type": "integer", "required": false},
    {"name": "wheel_size_in", "type": "number", "required": false},
    {"name": "gears", "type": "integer", "required": false},
    {"name": "electric", "type": "boolean", "required": false}
]'),
('toys', 'Toys', NULL, 60, '[
    {"name": "brand", "type": "string", "required": false},
    {"name": "min_age_years", "type": "integer", "required": false},
    {"name": "battery_powered", "type": "boolean", "required": false}
]'),
('board_games', 'Board games', 'toys', 10, '[
    {"name": "min_players", "type": "integer", "required": false},
    {"name": "max_players", "type": "integer", "required": false},
    {"name": "language", "type": "string", "required": false},
    {"name": "complete", "type": "boolean", "required": false}
]'),
('building_sets', 'Building sets', 'toys', 20, '[
    {"name": "pieces", "type": "integer", "required": false},
    {"name": "set_number", "type": "string", "required": false},
    {"name": "complete", "type": "boolean", "required": false}
]')
ON CONFLICT (slug) DO UPDATE
SET name = EXCLUDED.name, parent = EXCLUDED.parent, position = EXCLUDED.position,
    attributes = EXCLUDED.attributes;
