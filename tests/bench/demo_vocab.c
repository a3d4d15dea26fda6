/*
 * The words scripts/demo writes with. Prices are typical second-hand prices in good
 * condition, in EUR; demo.c scales them by condition and converts them to the city's
 * currency. Every product's attributes must fit the schema of sql/004_categories.sql (an
 * attribute the schema lacks is ignored, a value an enum lacks is dropped).
 */
#include "demo.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

size_t
demo_count(const char *const *list)
{
    size_t n = 0;
    while (list[n] != NULL) {
        n++;
    }
    return n;
}

/* ---- electronics ---------------------------------------------------------------------- */

static const struct demo_product electronics_p[] = {
    {"Nintendo", "Switch OLED", 230, NULL},
    {"Nintendo", "Switch Lite", 120, NULL},
    {"Sony", "PlayStation 5 Digital Edition", 330, NULL},
    {"Sony", "PlayStation 4 Pro 1 TB", 180, NULL},
    {"Microsoft", "Xbox Series S", 200, NULL},
    {"Apple", "iPad (9th generation) 64 GB", 230, NULL},
    {"Apple", "iPad Air 4", 340, NULL},
    {"Samsung", "Galaxy Tab S7", 290, NULL},
    {"Amazon", "Kindle Paperwhite", 70, NULL},
    {"Kobo", "Clara HD e-reader", 60, NULL},
    {"Apple", "Watch Series 7 45 mm", 200, NULL},
    {"Garmin", "Forerunner 245", 110, NULL},
    {"Fitbit", "Charge 5", 60, NULL},
    {"DJI", "Mini 2 drone", 280, NULL},
    {"Raspberry Pi", "4 Model B 8 GB", 60, NULL},
    {"Logitech", "MX Master 3 mouse", 50, NULL},
    {"Dell", "UltraSharp U2720Q 27\" monitor", 290, NULL},
    {"LG", "27GL850 gaming monitor", 220, NULL},
    {"Philips", "Hue starter kit", 70, NULL},
    {"Google", "Nest Hub", 45, NULL},
    {"Canon", "PIXMA TS5150 printer", 40, NULL},
    {"Epson", "EcoTank ET-2720 printer", 120, NULL},
};
static const char *const electronics_t[] = {
    "{cond}{brand} {model}",
    "{brand} {model}[, {color}]",
    "{brand} {model} – fully working",
    "{cond}{brand} {model}[ ({color})]",
    NULL,
};
static const char *const electronics_d[] = {
    "Fully tested, everything works as it should.",
    "Comes with the original box and all accessories.",
    "Selling because I upgraded to a newer model.",
    "Receipt available, bought in a shop here.",
    "Factory reset and ready for the next owner.",
    "Only used at home, never taken travelling.",
    NULL,
};

static const struct demo_product phones_p[] = {
    {"Apple", "iPhone 11", 220, NULL},
    {"Apple", "iPhone 12", 300, NULL},
    {"Apple", "iPhone 13", 420, NULL},
    {"Apple", "iPhone 13 mini", 380, NULL},
    {"Apple", "iPhone 14 Pro", 750, NULL},
    {"Apple", "iPhone SE (2022)", 220, NULL},
    {"Samsung", "Galaxy S21", 280, NULL},
    {"Samsung", "Galaxy S22", 360, NULL},
    {"Samsung", "Galaxy S23 Ultra", 760, NULL},
    {"Samsung", "Galaxy A54 5G", 230, NULL},
    {"Samsung", "Galaxy A14", 110, NULL},
    {"Google", "Pixel 6a", 190, NULL},
    {"Google", "Pixel 7", 320, NULL},
    {"Google", "Pixel 8 Pro", 650, NULL},
    {"OnePlus", "9", 250, NULL},
    {"OnePlus", "Nord 2", 160, NULL},
    {"Xiaomi", "Redmi Note 12", 130, NULL},
    {"Xiaomi", "13T", 380, NULL},
    {"Fairphone", "4", 280, NULL},
    {"Motorola", "Moto G54", 120, NULL},
    {"Nokia", "G21", 80, NULL},
    {"Sony", "Xperia 10 IV", 170, NULL},
};
static const char *const phones_t[] = {
    "{brand} {model}[ {storage_gb} GB]",
    "{cond}{brand} {model}[ {storage_gb} GB][ {color}]",
    "{brand} {model}[, {storage_gb} GB][, {unlocked}]",
    "{brand} {model}[ – {color}][, {storage_gb}GB]",
    NULL,
};
static const char *const phones_d[] = {
    "Battery health is at {battery}%.",
    "Always used with a case and a screen protector.",
    "Comes with the original box and cable, no charger.",
    "Small scratch on the frame, the screen is flawless.",
    "Never been repaired, all original parts.",
    "Factory reset and removed from my account.",
    "Both cameras and the fingerprint reader work perfectly.",
    NULL,
};

static const struct demo_product laptops_p[] = {
    {"Apple", "MacBook Air M1", 550, "os=macos;cpu=Apple M1;screen_in=13.3"},
    {"Apple", "MacBook Air M2", 850, "os=macos;cpu=Apple M2;screen_in=13.6"},
    {"Apple", "MacBook Pro 14\" M1 Pro", 1300, "os=macos;cpu=Apple M1 Pro;screen_in=14.2"},
    {"Apple", "MacBook Pro 13\" 2019", 500, "os=macos;cpu=Intel Core i5-8257U;screen_in=13.3"},
    {"Lenovo", "ThinkPad T14 Gen 2", 450, "cpu=Intel Core i5-1135G7;screen_in=14"},
    {"Lenovo", "ThinkPad X1 Carbon Gen 9", 750, "cpu=Intel Core i7-1165G7;screen_in=14"},
    {"Lenovo", "IdeaPad 5 15", 380, "cpu=AMD Ryzen 5 5500U;screen_in=15.6"},
    {"Dell", "XPS 13 9310", 650, "cpu=Intel Core i7-1185G7;screen_in=13.4"},
    {"Dell", "Latitude 5420", 350, "cpu=Intel Core i5-1145G7;screen_in=14"},
    {"HP", "EliteBook 840 G8", 400, "cpu=Intel Core i5-1145G7;screen_in=14"},
    {"HP", "Pavilion 15", 300, "cpu=AMD Ryzen 5 5500U;screen_in=15.6"},
    {"Asus", "ZenBook 14", 500, "cpu=AMD Ryzen 7 5800H;screen_in=14"},
    {"Asus", "ROG Zephyrus G14", 1000, "cpu=AMD Ryzen 9 6900HS;screen_in=14"},
    {"Acer", "Aspire 5", 320, "cpu=Intel Core i5-1235U;screen_in=15.6"},
    {"Acer", "Chromebook 314", 120, "os=chromeos;cpu=Intel Celeron N4020;screen_in=14;ram_gb=4;storage_gb=64"},
    {"Microsoft", "Surface Laptop 4", 550, "os=windows;cpu=Intel Core i5-1145G7;screen_in=13.5"},
    {"Framework", "Laptop 13", 700, "cpu=Intel Core i5-1240P;screen_in=13.5"},
    {"MSI", "Katana GF66", 650, "os=windows;cpu=Intel Core i7-11800H;screen_in=15.6"},
};
static const char *const laptops_t[] = {
    "{brand} {model}[ {ram_gb}/{storage_gb} GB]",
    "{cond}{brand} {model}[, {ram_gb} GB RAM][, {storage_gb} GB SSD]",
    "{brand} {model}[ – {storage_gb} GB SSD]",
    "{brand} {model}[ {screen_in}\"][, {ram_gb} GB]",
    NULL,
};
static const char *const laptops_d[] = {
    "The battery still lasts about {hours} hours of light use.",
    "Keyboard and trackpad in perfect working order.",
    "Comes with the original charger.",
    "Freshly reinstalled, none of my data on it.",
    "A few marks on the lid, the screen is perfect.",
    "Ideal for students and office work.",
    "Never dropped, always carried in a sleeve.",
    NULL,
};

static const struct demo_product cameras_p[] = {
    {"Canon", "EOS 80D", 450, "kind=dslr;megapixels=24.2;lens_mount=Canon EF"},
    {"Canon", "EOS 2000D with 18-55 mm kit lens", 280, "kind=dslr;megapixels=24.1;lens_mount=Canon EF"},
    {"Canon", "EOS R6", 1500, "kind=mirrorless;megapixels=20.1;lens_mount=Canon RF"},
    {"Nikon", "D750", 700, "kind=dslr;megapixels=24.3;lens_mount=Nikon F"},
    {"Nikon", "Z6 II", 1300, "kind=mirrorless;megapixels=24.5;lens_mount=Nikon Z"},
    {"Sony", "Alpha 7 III", 1200, "kind=mirrorless;megapixels=24.2;lens_mount=Sony E"},
    {"Sony", "RX100 VI", 550, "kind=compact;megapixels=20.1;lens_mount=-"},
    {"Fujifilm", "X-T30", 650, "kind=mirrorless;megapixels=26.1;lens_mount=Fujifilm X"},
    {"Fujifilm", "X100V", 1100, "kind=compact;megapixels=26.1;lens_mount=-"},
    {"Olympus", "OM-D E-M10 Mark III", 300, "kind=mirrorless;megapixels=16.1;lens_mount=Micro Four Thirds"},
    {"Panasonic", "Lumix G80", 420, "kind=mirrorless;megapixels=16;lens_mount=Micro Four Thirds"},
    {"GoPro", "HERO9 Black", 180, "kind=action;megapixels=20;lens_mount=-"},
    {"DJI", "Osmo Action 3", 200, "kind=action;megapixels=12;lens_mount=-"},
    {"Canon", "AE-1 Program", 180, "kind=film;megapixels=-;shutter_count=-;lens_mount=Canon FD"},
    {"Olympus", "OM-1", 150, "kind=film;megapixels=-;shutter_count=-;lens_mount=Olympus OM"},
    {"Pentax", "K1000", 140, "kind=film;megapixels=-;shutter_count=-;lens_mount=Pentax K"},
    {"Polaroid", "Now i-Type", 80, "kind=instant;megapixels=-;shutter_count=-;lens_mount=-"},
    {"Fujifilm", "Instax Mini 11", 45, "kind=instant;megapixels=-;shutter_count=-;lens_mount=-"},
};
static const char *const cameras_t[] = {
    "{brand} {model}[ {kind} camera]",
    "{cond}{brand} {model}[, {megapixels} MP]",
    "{brand} {model}[ – {shutter_count} shutter count]",
    "{brand} {model}[ ({lens_mount} mount)]",
    NULL,
};
static const char *const cameras_d[] = {
    "Body and lens are clean, no fungus or haze.",
    "Comes with a strap, two batteries and a charger.",
    "Light signs of use on the grip, otherwise very clean.",
    "Original box and manual included.",
    "Tested last week, all functions work.",
    "Selling because I switched systems.",
    NULL,
};

static const struct demo_product audio_p[] = {
    {"Sony", "WH-1000XM4", 180, "kind=headphones;wireless=true;noise_cancelling=true"},
    {"Bose", "QuietComfort 45", 170, "kind=headphones;wireless=true;noise_cancelling=true"},
    {"Sennheiser", "HD 600", 250, "kind=headphones;wireless=false;noise_cancelling=false"},
    {"Beyerdynamic", "DT 770 Pro", 90, "kind=headphones;wireless=false;noise_cancelling=false"},
    {"Apple", "AirPods Pro", 120, "kind=earbuds;wireless=true;noise_cancelling=true"},
    {"Apple", "AirPods (3rd generation)", 90, "kind=earbuds;wireless=true;noise_cancelling=false"},
    {"Samsung", "Galaxy Buds2", 60, "kind=earbuds;wireless=true;noise_cancelling=true"},
    {"JBL", "Flip 5", 55, "kind=speaker;wireless=true;noise_cancelling=false"},
    {"JBL", "Charge 5", 90, "kind=speaker;wireless=true;noise_cancelling=false"},
    {"Sonos", "One", 120, "kind=speaker;wireless=true;noise_cancelling=false"},
    {"Bose", "SoundLink Mini II", 80, "kind=speaker;wireless=true;noise_cancelling=false"},
    {"Sonos", "Beam", 250, "kind=soundbar;wireless=true;noise_cancelling=false"},
    {"Yamaha", "A-S301 amplifier", 220, "kind=amplifier;wireless=false;noise_cancelling=false"},
    {"Marantz", "PM6006", 280, "kind=amplifier;wireless=false;noise_cancelling=false"},
    {"Audio-Technica", "AT-LP60X", 90, "kind=turntable;wireless=false;noise_cancelling=false"},
    {"Rega", "Planar 1", 230, "kind=turntable;wireless=false;noise_cancelling=false"},
    {"Rode", "NT-USB", 80, "kind=microphone;wireless=false;noise_cancelling=false"},
    {"Shure", "SM58", 70, "kind=microphone;wireless=false;noise_cancelling=false"},
};
static const char *const audio_t[] = {
    "{brand} {model}",
    "{cond}{brand} {model}[ {kind}]",
    "{brand} {model}[ – {wireless}][, {noise_cancelling}]",
    "{brand} {model}[ ({color})]",
    NULL,
};
static const char *const audio_d[] = {
    "Sounds great, no crackling or hum.",
    "Ear pads replaced a few months ago.",
    "Comes with the carrying case and cables.",
    "Pairs instantly and the battery still lasts all day.",
    "Only used at home at moderate volume.",
    "Selling because I moved to a smaller flat.",
    NULL,
};

/* ---- clothing --------------------------------------------------------------------------- */

static const struct demo_product clothing_p[] = {
    {"Levi's", "Trucker denim jacket", 35, "material=denim"},
    {"Patagonia", "Nano Puff jacket", 80, "material=polyester"},
    {"The North Face", "Nuptse down jacket", 120, "material=down"},
    {"Barbour", "Bedale wax jacket", 110, "material=waxed cotton"},
    {"Arc'teryx", "Beta AR shell jacket", 250, "material=Gore-Tex"},
    {"Zara", "wool blend coat", 40, "material=wool"},
    {"Mango", "floral midi dress", 25, "material=viscose"},
    {"COS", "knitted scarf", 15, "material=wool"},
    {"Uniqlo", "Ultra Light Down vest", 25, "material=down"},
    {"Massimo Dutti", "leather jacket", 90, "material=leather"},
    {"& Other Stories", "linen jumpsuit", 35, "material=linen"},
    {"Burberry", "trench coat", 450, "material=cotton gabardine"},
    {"Ralph Lauren", "cable-knit cardigan", 55, "material=cotton"},
    {NULL, "Kids' clothes bundle, 14 pieces", 30, "gender=kids"},
};
static const char *const clothing_t[] = {
    "[{brand} ]{model}[, {color}]",
    "{cond}[{brand} ]{model}",
    "[{brand} ]{model}[ – {color}]",
    "{model} from {brand}[ in {color}]",
    NULL,
};
static const char *const clothing_d[] = {
    "Worn a handful of times.",
    "No stains, holes or bobbling.",
    "Washed at 30 degrees, never tumble dried.",
    "Fits true to size.",
    "From a smoke-free and pet-free home.",
    "Happy to send more photos or measurements.",
    NULL,
};

static const struct demo_product tops_p[] = {
    {"Uniqlo", "Supima cotton T-shirt", 8, "sleeve=short;material=cotton"},
    {"Patagonia", "Better Sweater fleece", 45, "sleeve=long;material=polyester fleece"},
    {"Ralph Lauren", "Oxford shirt", 25, "sleeve=long;material=cotton"},
    {"COS", "merino jumper", 30, "sleeve=long;material=merino wool"},
    {"H&M", "linen shirt", 10, "sleeve=long;material=linen"},
    {"Zara", "satin blouse", 12, "sleeve=long;material=polyester"},
    {"Nike", "Dri-FIT running top", 12, "sleeve=short;material=polyester"},
    {"Adidas", "Originals hoodie", 25, "sleeve=long;material=cotton"},
    {"Arket", "heavyweight T-shirt", 12, "sleeve=short;material=organic cotton"},
    {"Lacoste", "piqué polo shirt", 25, "sleeve=short;material=cotton"},
    {"Acne Studios", "crew-neck sweatshirt", 90, "sleeve=long;material=cotton"},
    {"Weekday", "ribbed tank top", 6, "sleeve=sleeveless;material=cotton"},
    {"Champion", "reverse weave sweatshirt", 30, "sleeve=long;material=cotton"},
};
static const char *const tops_t[] = {
    "{brand} {model}[, size {size}]",
    "{brand} {model}[ {size}][ – {color}]",
    "{cond}{brand} {model}[ ({size})]",
    "{model} {brand}[, {color}][, size {size}]",
    NULL,
};

static const struct demo_product bottoms_p[] = {
    {"Levi's", "501 original jeans", 30, "material=denim"},
    {"Levi's", "511 slim jeans", 28, "material=denim"},
    {"Carhartt WIP", "Single Knee pants", 40, "material=cotton canvas"},
    {"Dickies", "874 work pants", 20, "material=polyester cotton"},
    {"Zara", "pleated midi skirt", 12, "material=polyester"},
    {"Mango", "wide-leg trousers", 15, "material=viscose"},
    {"Nike", "Tech Fleece joggers", 35, "material=cotton"},
    {"Uniqlo", "chino trousers", 12, "material=cotton"},
    {"COS", "tailored wool trousers", 30, "material=wool"},
    {"Weekday", "denim mini skirt", 15, "material=denim"},
    {"Patagonia", "Baggies shorts", 25, "material=nylon"},
    {"Fjällräven", "Vidda Pro trousers", 60, "material=G-1000"},
};
static const char *const bottoms_t[] = {
    "{brand} {model}[, size {size}]",
    "{brand} {model}[ – waist {waist_cm} cm]",
    "{cond}{brand} {model}[ {size}]",
    "{brand} {model}[ {size}][, {color}]",
    NULL,
};

static const struct demo_product shoes_p[] = {
    {"Nike", "Air Max 90", 60, "kind=sneakers"},
    {"Adidas", "Stan Smith", 40, "kind=sneakers"},
    {"Veja", "V-10", 60, "kind=sneakers"},
    {"New Balance", "574", 45, "kind=sneakers"},
    {"Dr. Martens", "1460 boots", 70, "kind=boots"},
    {"Timberland", "6-inch premium boots", 70, "kind=boots"},
    {"Clarks", "Desert Boot", 50, "kind=boots"},
    {"Birkenstock", "Arizona", 40, "kind=sandals"},
    {"Teva", "Hurricane XLT2", 30, "kind=sandals"},
    {"Salomon", "Speedcross 5", 60, "kind=sports"},
    {"Asics", "Gel-Nimbus 25", 60, "kind=sports"},
    {"Hoka", "Clifton 9", 60, "kind=sports"},
    {"Church's", "Consul Oxford shoes", 150, "kind=formal"},
    {"Loake", "brogues", 80, "kind=formal"},
    {"UGG", "Tasman slippers", 45, "kind=slippers"},
};
static const char *const shoes_t[] = {
    "{brand} {model}[, EU {size_eu}]",
    "{cond}{brand} {model}[ size {size_eu}]",
    "{brand} {model}[ {color}][ – EU {size_eu}]",
    NULL,
};
static const char *const shoes_d[] = {
    "Soles in good shape, plenty of wear left.",
    "Worn indoors only.",
    "Comes with the original box.",
    "Cleaned and ready to wear.",
    "Too small for me, worn twice.",
    NULL,
};

/* ---- furniture -------------------------------------------------------------------------- */

static const struct demo_product furniture_p[] = {
    {"IKEA", "Kallax shelving unit 2x4", 40, "width_cm=77;depth_cm=39;height_cm=147;assembly_required=true"},
    {"IKEA", "Billy bookcase", 30, "width_cm=80;depth_cm=28;height_cm=202;assembly_required=true"},
    {"IKEA", "Malm chest of 6 drawers", 60, "width_cm=80;depth_cm=48;height_cm=123"},
    {"IKEA", "Pax wardrobe", 120, "width_cm=100;depth_cm=58;height_cm=201;assembly_required=true"},
    {"IKEA", "Poäng armchair", 50, "material=birch veneer"},
    {"Muuto", "Visu chair", 120, "material=oak"},
    {"Hay", "About A Chair AAC22", 110, "material=oak"},
    {"Vitra", "Eames Plastic Side Chair", 180, "material=polypropylene"},
    {"String", "Pocket shelf", 120, "width_cm=60;depth_cm=15;height_cm=50;material=ash"},
    {"Louis Poulsen", "PH 5 pendant lamp", 450, "material=aluminium"},
    {NULL, "Vintage teak sideboard", 350, "material=teak"},
    {NULL, "Solid oak chest of drawers", 180, "material=oak"},
    {NULL, "Rattan armchair", 90, "material=rattan"},
    {NULL, "Mid-century desk", 220, "material=walnut"},
    {NULL, "Industrial metal bookshelf", 80, "material=steel"},
};
static const char *const furniture_t[] = {
    "[{brand} ]{model}[ in {material}]",
    "{cond}[{brand} ]{model}",
    "[{brand} ]{model}[, {width_cm} cm wide]",
    "[{brand} ]{model}[ – {color}]",
    NULL,
};
static const char *const furniture_d[] = {
    "Solid and stable, no wobble.",
    "A few light marks on the top, see the photos.",
    "Disassembled for easy transport, all screws in a bag.",
    "Dimensions are in the details below.",
    "Selling because I am moving flat.",
    NULL,
};

static const struct demo_product sofas_p[] = {
    {"IKEA", "Kivik 3-seat sofa", 200, "seats=3"},
    {"IKEA", "Ektorp 2-seat sofa", 120, "seats=2"},
    {"IKEA", "Friheten corner sofa-bed", 250, "seats=4;sofa_bed=true"},
    {"IKEA", "Söderhamn 3-seat sofa", 250, "seats=3"},
    {"Made.com", "Scott 3 seater sofa", 350, "seats=3"},
    {"Hay", "Mags 2.5 seater sofa", 1200, "seats=3"},
    {"Muuto", "Outline sofa", 1600, "seats=3"},
    {"BoConcept", "Carlton sofa", 900, "seats=3"},
    {"Habitat", "Tilly sofa bed", 350, "seats=2;sofa_bed=true"},
    {NULL, "Chesterfield leather sofa", 700, "seats=3;material=leather"},
    {NULL, "Mid-century velvet sofa", 400, "seats=2;material=velvet"},
};
static const char *const sofas_t[] = {
    "[{brand} ]{model}[ – {color}]",
    "{cond}[{brand} ]{model}",
    "[{brand} ]{model}[, {seats}-seater]",
    NULL,
};
static const char *const sofas_d[] = {
    "Covers are removable and were washed last month.",
    "No pets, no smoking, no stains.",
    "Cushions still firm, no sagging.",
    "You will need a van and two people to carry it.",
    "Selling because it does not fit the new living room.",
    NULL,
};

static const struct demo_product tables_p[] = {
    {"IKEA", "Ekedalen extendable table", 120, "shape=rectangular;extendable=true;seats=6"},
    {"IKEA", "Lisabo dining table", 80, "shape=rectangular;seats=4"},
    {"IKEA", "Docksta round table", 90, "shape=round;seats=4"},
    {"IKEA", "Lack coffee table", 10, "shape=square;seats=-"},
    {"Hay", "CPH Deux 210 table", 600, "shape=rectangular;seats=6"},
    {"Muuto", "70/70 table", 500, "shape=square;seats=4"},
    {NULL, "Solid oak farmhouse table", 450, "shape=rectangular;seats=8;material=oak"},
    {NULL, "Marble coffee table", 150, "shape=round;seats=-;material=marble"},
    {NULL, "Tulip-style pedestal table", 300, "shape=round;seats=4"},
    {NULL, "Vintage teak dining table", 380, "shape=oval;extendable=true;seats=6;material=teak"},
    {NULL, "Folding garden table", 40, "shape=square;seats=4;material=acacia"},
};
static const char *const tables_t[] = {
    "[{brand} ]{model}[ for {seats}]",
    "{cond}[{brand} ]{model}",
    "[{brand} ]{model}[, {width_cm} x {depth_cm} cm]",
    "[{brand} ]{model}[ – {material}]",
    NULL,
};

/* ---- books ------------------------------------------------------------------------------ */

static const struct demo_product books_p[] = {
    {"Haruki Murakami", "Norwegian Wood", 6, "publisher=Vintage;year=2000;language=English"},
    {"Elena Ferrante", "My Brilliant Friend", 7, "publisher=Europa Editions;year=2012;language=English"},
    {"Sally Rooney", "Normal People", 7, "publisher=Faber & Faber;year=2018;language=English"},
    {"Yuval Noah Harari", "Sapiens", 8, "publisher=Vintage;year=2015;language=English"},
    {"George Orwell", "Nineteen Eighty-Four", 5, "publisher=Penguin Books;year=2008;language=English"},
    {"Jane Austen", "Pride and Prejudice", 4, "publisher=Penguin Classics;year=2003;language=English"},
    {"J. R. R. Tolkien", "The Hobbit", 7, "publisher=HarperCollins;year=2011;language=English"},
    {"Agatha Christie", "Murder on the Orient Express", 5, "publisher=HarperCollins;year=2017;language=English"},
    {"Kazuo Ishiguro", "Klara and the Sun", 9, "publisher=Faber & Faber;year=2021;language=English"},
    {"Margaret Atwood", "The Handmaid's Tale", 6, "publisher=Vintage;year=1996;language=English"},
    {"Umberto Eco", "Il nome della rosa", 8, "publisher=Bompiani;year=2012;language=Italian"},
    {"Albert Camus", "L'Étranger", 5, "publisher=Gallimard;year=1972;language=French"},
    {"Patrick Süskind", "Das Parfum", 6, "publisher=Diogenes;year=1994;language=German"},
    {"Carlos Ruiz Zafón", "La sombra del viento", 7, "publisher=Planeta;year=2001;language=Spanish"},
    {"Olga Tokarczuk", "Bieguni", 8, "publisher=Wydawnictwo Literackie;year=2007;language=Polish"},
    {"Stieg Larsson", "Män som hatar kvinnor", 6, "publisher=Norstedts;year=2005;language=Swedish"},
    {"Delia Owens", "Where the Crawdads Sing", 7, "publisher=Corsair;year=2019;language=English"},
    {"Frank Herbert", "Dune", 8, "publisher=Hodder & Stoughton;year=2015;language=English"},
    {"Matt Haig", "The Midnight Library", 7, "publisher=Canongate;year=2020;language=English"},
    {"Yotam Ottolenghi", "Simple", 14, "publisher=Ebury Press;year=2018;language=English;format=hardcover"},
};
static const char *const books_t[] = {
    "{model} by {brand}",
    "{model} – {brand}[ ({format})]",
    "{brand}: {model}[, {language}]",
    "{cond}{model} – {brand}",
    NULL,
};
static const char *const books_d[] = {
    "No notes, no highlighting.",
    "The spine is slightly creased, all pages intact.",
    "Read once, on holiday.",
    "Minor shelf wear on the cover.",
    "I can bundle it with other books from my listings.",
    NULL,
};

static const struct demo_product textbooks_p[] = {
    {"Lisa A. Urry et al.", "Campbell Biology", 40, "publisher=Pearson;subject=Biology;language=English"},
    {"James Stewart", "Calculus: Early Transcendentals", 45, "publisher=Cengage;subject=Mathematics;language=English"},
    {"Halliday, Resnick and Walker", "Fundamentals of Physics", 40, "publisher=Wiley;subject=Physics;language=English"},
    {"N. Gregory Mankiw", "Principles of Economics", 35, "publisher=Cengage;subject=Economics;language=English"},
    {"Thomas H. Cormen et al.", "Introduction to Algorithms", 50, "publisher=MIT Press;subject=Computer science;language=English"},
    {"Peter Atkins", "Physical Chemistry", 40, "publisher=Oxford University Press;subject=Chemistry;language=English"},
    {"Susan Standring", "Gray's Anatomy", 90, "publisher=Elsevier;subject=Medicine;language=English;format=hardcover"},
    {"Raymond Murphy", "English Grammar in Use", 15, "publisher=Cambridge University Press;subject=English;language=English"},
    {"Philip Kotler", "Principles of Marketing", 30, "publisher=Pearson;subject=Marketing;language=English"},
    {"Gilbert Strang", "Introduction to Linear Algebra", 45, "publisher=Wellesley-Cambridge Press;subject=Mathematics;language=English"},
    {"Paul A. Tipler", "Physik für Studierende", 35, "publisher=Springer Spektrum;subject=Physics;language=German"},
};
static const char *const textbooks_t[] = {
    "{model} ({brand})[, edition {edition}]",
    "{model}, {brand}[, edition {edition}]",
    "{cond}{model} – {brand}",
    "{subject} textbook: {model}",
    NULL,
};
static const char *const textbooks_d[] = {
    "Some pencil notes in the first chapters, easy to erase.",
    "Used for one semester.",
    "All exercises unmarked.",
    "Access code not included.",
    NULL,
};

/* ---- sports ----------------------------------------------------------------------------- */

static const struct demo_product sports_p[] = {
    {"Wilson", "Pro Staff 97 tennis racket", 80, "sport=tennis"},
    {"Head", "Speed MP tennis racket", 70, "sport=tennis"},
    {"Babolat", "Pure Drive tennis racket", 90, "sport=tennis"},
    {"Atomic", "Redster skis 170 cm", 200, "sport=skiing"},
    {"Salomon", "X Pro 100 ski boots", 120, "sport=skiing"},
    {"Burton", "Custom snowboard 156", 220, "sport=snowboarding"},
    {"Manduka", "PRO yoga mat", 60, "sport=yoga"},
    {"Bowflex", "SelectTech 552 dumbbells", 220, "sport=fitness"},
    {"Concept2", "Model D rowing machine", 700, "sport=fitness"},
    {"Adidas", "Predator football boots", 40, "sport=football"},
    {"Select", "Brillant Super football", 20, "sport=football"},
    {"Black Diamond", "Momentum climbing harness", 35, "sport=climbing"},
    {"Petzl", "GRIGRI belay device", 60, "sport=climbing"},
    {"Osprey", "Atmos AG 65 backpack", 130, "sport=hiking"},
    {"Callaway", "Strata golf club set", 250, "sport=golf"},
    {"Garmin", "Edge 530 bike computer", 150, "sport=cycling"},
};
static const char *const sports_t[] = {
    "{brand} {model}",
    "{cond}{brand} {model}",
    NULL,
};
static const char *const sports_d[] = {
    "Used for one season only.",
    "Stored indoors, in very good shape.",
    "Selling because I no longer have time for it.",
    "Can show it working before you buy.",
    NULL,
};

static const struct demo_product bicycles_p[] = {
    {"Trek", "Domane AL 2", 550, "kind=road;wheel_size_in=28;gears=16;electric=false"},
    {"Specialized", "Allez", 500, "kind=road;wheel_size_in=28;gears=16;electric=false"},
    {"Canyon", "Grizl 7", 1300, "kind=gravel;wheel_size_in=28;gears=11;electric=false"},
    {"Cannondale", "Topstone 2", 1100, "kind=gravel;wheel_size_in=28;gears=20;electric=false"},
    {"Cube", "Aim Race", 450, "kind=mountain;wheel_size_in=29;gears=18;electric=false"},
    {"Giant", "Talon 2", 400, "kind=mountain;wheel_size_in=27.5;gears=18;electric=false"},
    {"Decathlon", "Rockrider ST 100", 180, "kind=mountain;wheel_size_in=27.5;gears=21;electric=false"},
    {"Gazelle", "Orange C7", 500, "kind=city;wheel_size_in=28;gears=7;electric=false"},
    {"Batavus", "Mambo", 350, "kind=city;wheel_size_in=28;gears=7;electric=false"},
    {"Brompton", "M6L folding bike", 900, "kind=city;wheel_size_in=16;gears=6;electric=false;frame_size_cm=-"},
    {"VanMoof", "S3", 1100, "kind=city;wheel_size_in=28;gears=4;electric=true"},
    {"Cube", "Kathmandu Hybrid", 1800, "kind=hybrid;wheel_size_in=28;gears=10;electric=true"},
    {"Riese & Müller", "Charger3", 2600, "kind=hybrid;wheel_size_in=27.5;gears=11;electric=true"},
    {"Woom", "4", 280, "kind=kids;wheel_size_in=20;gears=8;electric=false;frame_size_cm=-"},
    {"Mongoose", "Legion L100 BMX", 250, "kind=bmx;wheel_size_in=20;gears=1;electric=false;frame_size_cm=-"},
};
static const char *const bicycles_t[] = {
    "{brand} {model}[ {kind} bike][, {frame_size_cm} cm frame]",
    "{cond}{brand} {model}[, {gears} gears]",
    "{brand} {model}[ – {electric}][, size {frame_size_cm} cm]",
    "{brand} {model}[ {wheel_size_in}\"]",
    NULL,
};
static const char *const bicycles_d[] = {
    "Recently serviced: new chain and brake pads.",
    "Tyres in good condition, no punctures.",
    "Some scratches on the frame from normal use.",
    "Lock and lights included.",
    "Test rides welcome.",
    "Stored in a dry basement over winter.",
    NULL,
};

/* ---- toys ------------------------------------------------------------------------------- */

static const struct demo_product toys_p[] = {
    {"Playmobil", "City Life hospital", 40, "min_age_years=4;battery_powered=false"},
    {"Brio", "Deluxe railway set", 60, "min_age_years=3;battery_powered=false"},
    {"Hape", "wooden kitchen", 50, "min_age_years=3;battery_powered=false"},
    {"Fisher-Price", "Laugh & Learn puppy", 12, "min_age_years=0;battery_powered=true"},
    {"Sylvanian Families", "Cosy Cottage starter home", 25, "min_age_years=3;battery_powered=false"},
    {"Barbie", "Dreamhouse", 90, "min_age_years=3;battery_powered=true"},
    {"Hot Wheels", "City Ultimate Garage", 40, "min_age_years=4;battery_powered=false"},
    {"Schleich", "Horse Club riding centre", 35, "min_age_years=5;battery_powered=false"},
    {"VTech", "KidiZoom Duo camera", 25, "min_age_years=3;battery_powered=true"},
    {"Nerf", "Elite 2.0 blaster", 15, "min_age_years=8;battery_powered=false"},
    {"Tonies", "Toniebox starter set", 55, "min_age_years=3;battery_powered=true"},
    {"Djeco", "puzzle 100 pieces", 8, "min_age_years=5;battery_powered=false"},
};
static const char *const toys_t[] = {
    "{brand} {model}",
    "{cond}{brand} {model}[ (age {min_age_years}+)]",
    "{brand} {model}[ – {battery_powered}]",
    NULL,
};
static const char *const toys_d[] = {
    "Complete, nothing missing.",
    "Our kids have outgrown it.",
    "Cleaned and disinfected.",
    "Original box included.",
    "Batteries not included.",
    NULL,
};

static const struct demo_product board_games_p[] = {
    {"Kosmos", "Catan", 25, "min_players=3;max_players=4"},
    {"Days of Wonder", "Ticket to Ride Europe", 30, "min_players=2;max_players=5"},
    {"Hans im Glück", "Carcassonne", 20, "min_players=2;max_players=5"},
    {"Z-Man Games", "Pandemic", 25, "min_players=2;max_players=4"},
    {"Plan B Games", "Azul", 25, "min_players=2;max_players=4"},
    {"Stonemaier Games", "Wingspan", 40, "min_players=1;max_players=5"},
    {"Repos Production", "7 Wonders", 30, "min_players=3;max_players=7"},
    {"Libellud", "Dixit", 20, "min_players=3;max_players=6"},
    {"Czech Games Edition", "Codenames", 12, "min_players=2;max_players=8"},
    {"Cephalofair Games", "Gloomhaven", 80, "min_players=1;max_players=4"},
    {"Hasbro", "Monopoly", 15, "min_players=2;max_players=6"},
    {"Mattel", "Scrabble", 15, "min_players=2;max_players=4"},
    {"FryxGames", "Terraforming Mars", 45, "min_players=1;max_players=5"},
    {"Rio Grande Games", "Dominion", 25, "min_players=2;max_players=4"},
};
static const char *const board_games_t[] = {
    "{model} board game[ ({language})]",
    "{model} – {brand}[, {min_players}–{max_players} players]",
    "{cond}{model}[, {language} edition]",
    NULL,
};
static const char *const board_games_d[] = {
    "All pieces counted, nothing missing.",
    "Played only a few times.",
    "Cards sleeved from the first game.",
    "The box has some shelf wear, the contents are like new.",
    NULL,
};

static const struct demo_product building_sets_p[] = {
    {"LEGO", "Star Wars Millennium Falcon", 650, "set_number=75192;pieces=7541"},
    {"LEGO", "Technic Porsche 911 GT3 RS", 250, "set_number=42056;pieces=2704"},
    {"LEGO", "Creator Volkswagen T1 Camper Van", 90, "set_number=10220;pieces=1334"},
    {"LEGO", "Ideas Tree House", 180, "set_number=21318;pieces=3036"},
    {"LEGO", "City Police Station", 50, "set_number=60316;pieces=668"},
    {"LEGO", "Friends Heartlake City Hospital", 30, "set_number=41394;pieces=379"},
    {"LEGO", "Technic Land Rover Defender", 150, "set_number=42110;pieces=2573"},
    {"LEGO", "Harry Potter Hogwarts Castle", 400, "set_number=71043;pieces=6020"},
    {"LEGO", "Duplo Number Train", 12, "set_number=10954;pieces=23"},
    {"LEGO", "Classic Large Creative Brick Box", 25, "set_number=10698;pieces=790"},
    {"Cobi", "Titanic", 90, "set_number=1916;pieces=2840"},
    {"Playmobil", "Pirate ship", 45, "set_number=70411;pieces=-"},
};
static const char *const building_sets_t[] = {
    "{brand} {model}[ {set_number}]",
    "{brand} {set_number} {model}",
    "{cond}{brand} {model}[ – {pieces} pieces]",
    NULL,
};
static const char *const building_sets_d[] = {
    "Built once, then kept in a display case.",
    "With instructions, no box.",
    "All bags still sealed.",
    "Checked against the inventory: complete.",
    NULL,
};

#define VOCAB(slug, w, r, g, b, bulky, titles, details)                                                                \
    {#slug, w, {r, g, b}, bulky, slug##_p, N(slug##_p), titles, details}

const struct demo_vocab demo_vocabs[] = {
    VOCAB(electronics, 6, 70, 90, 120, false, electronics_t, electronics_d),
    VOCAB(phones, 12, 40, 60, 140, false, phones_t, phones_d),
    VOCAB(laptops, 7, 90, 100, 110, false, laptops_t, laptops_d),
    VOCAB(cameras, 4, 30, 30, 35, false, cameras_t, cameras_d),
    VOCAB(audio, 5, 120, 40, 160, false, audio_t, audio_d),
    VOCAB(clothing, 5, 180, 120, 80, false, clothing_t, clothing_d),
    VOCAB(tops, 10, 200, 70, 90, false, tops_t, clothing_d),
    VOCAB(bottoms, 7, 40, 70, 150, false, bottoms_t, clothing_d),
    VOCAB(shoes, 8, 150, 90, 50, false, shoes_t, shoes_d),
    VOCAB(furniture, 6, 160, 120, 70, true, furniture_t, furniture_d),
    VOCAB(sofas, 4, 100, 120, 90, true, sofas_t, sofas_d),
    VOCAB(tables, 4, 130, 90, 50, true, tables_t, furniture_d),
    VOCAB(books, 9, 200, 180, 130, false, books_t, books_d),
    VOCAB(textbooks, 4, 60, 130, 110, false, textbooks_t, textbooks_d),
    VOCAB(sports, 6, 40, 150, 70, false, sports_t, sports_d),
    VOCAB(bicycles, 5, 210, 60, 40, true, bicycles_t, bicycles_d),
    VOCAB(toys, 5, 230, 180, 40, false, toys_t, toys_d),
    VOCAB(board_games, 4, 150, 40, 50, false, board_games_t, board_games_d),
    VOCAB(building_sets, 3, 230, 40, 40, false, building_sets_t, building_sets_d),
};
const size_t demo_nvocabs = N(demo_vocabs);

/* ---- places ------------------------------------------------------------------------------ */

const struct demo_city demo_cities[] = {
    {"Berlin", "DE", "EUR", 52.5200, 13.4050, 37},
    {"Hamburg", "DE", "EUR", 53.5511, 9.9937, 18},
    {"Munich", "DE", "EUR", 48.1351, 11.5820, 15},
    {"Cologne", "DE", "EUR", 50.9375, 6.9603, 11},
    {"Frankfurt", "DE", "EUR", 50.1109, 8.6821, 8},
    {"Paris", "FR", "EUR", 48.8566, 2.3522, 40},
    {"Lyon", "FR", "EUR", 45.7640, 4.8357, 10},
    {"Marseille", "FR", "EUR", 43.2965, 5.3698, 9},
    {"Toulouse", "FR", "EUR", 43.6047, 1.4442, 7},
    {"Madrid", "ES", "EUR", 40.4168, -3.7038, 33},
    {"Barcelona", "ES", "EUR", 41.3874, 2.1686, 26},
    {"Valencia", "ES", "EUR", 39.4699, -0.3763, 8},
    {"Lisbon", "PT", "EUR", 38.7223, -9.1393, 10},
    {"Porto", "PT", "EUR", 41.1579, -8.6291, 6},
    {"Rome", "IT", "EUR", 41.9028, 12.4964, 28},
    {"Milan", "IT", "EUR", 45.4642, 9.1900, 14},
    {"Naples", "IT", "EUR", 40.8518, 14.2681, 9},
    {"Amsterdam", "NL", "EUR", 52.3676, 4.9041, 9},
    {"Rotterdam", "NL", "EUR", 51.9244, 4.4777, 6},
    {"Brussels", "BE", "EUR", 50.8503, 4.3517, 12},
    {"Vienna", "AT", "EUR", 48.2082, 16.3738, 19},
    {"Dublin", "IE", "EUR", 53.3498, -6.2603, 12},
    {"Helsinki", "FI", "EUR", 60.1699, 24.9384, 7},
    {"Athens", "GR", "EUR", 37.9838, 23.7275, 16},
    {"London", "GB", "GBP", 51.5074, -0.1278, 45},
    {"Manchester", "GB", "GBP", 53.4808, -2.2426, 10},
    {"Zurich", "CH", "CHF", 47.3769, 8.5417, 9},
    {"Geneva", "CH", "CHF", 46.2044, 6.1432, 5},
    {"Warsaw", "PL", "PLN", 52.2297, 21.0122, 18},
    {"Kraków", "PL", "PLN", 50.0647, 19.9450, 8},
    {"Stockholm", "SE", "SEK", 59.3293, 18.0686, 16},
    {"Gothenburg", "SE", "SEK", 57.7089, 11.9746, 6},
};
const size_t demo_ncities = N(demo_cities);

/* ---- attributes --------------------------------------------------------------------------- */

const struct demo_weighted demo_enum_weights[] = {
    {"os", "windows", 70},    {"os", "linux", 15},       {"os", "none", 10},       {"os", "chromeos", 5},
    {"format", "paperback", 70}, {"format", "hardcover", 30},
    {"size", "XS", 7},        {"size", "S", 20},         {"size", "M", 30},        {"size", "L", 25},
    {"size", "XL", 13},       {"size", "XXL", 5},
    {"gender", "women", 45},  {"gender", "men", 40},     {"gender", "unisex", 10}, {"gender", "kids", 5},
    {"sleeve", "long", 50},   {"sleeve", "short", 40},   {"sleeve", "sleeveless", 10},
    {NULL, NULL, 0},
};

const char *const demo_colors_device[] = {"black", "white", "silver", "space grey", "midnight blue", "graphite",
                                          "green", "pink", "red", "gold", NULL};
const char *const demo_colors_clothing[] = {"black", "navy", "grey", "white", "beige", "olive", "burgundy",
                                            "camel", "red", "light blue", "forest green", "pink", NULL};
const char *const demo_colors_furniture[] = {"white", "black", "natural oak", "walnut", "grey", "dark green",
                                             "mustard yellow", "beige", "blue", NULL};
const char *const demo_materials_clothing[] = {"cotton", "wool", "linen", "denim", "polyester", "cashmere",
                                               "leather", "silk", "viscose", NULL};
const char *const demo_materials_shoes[] = {"leather", "suede", "canvas", "synthetic mesh", "rubber",
                                            "nubuck", NULL};
const char *const demo_materials_furniture[] = {"oak", "pine", "walnut", "teak", "beech", "birch plywood",
                                                "steel", "rattan", "velvet", "leather", "linen", NULL};
const char *const demo_cpus[] = {"Intel Core i5-1135G7", "Intel Core i7-1165G7", "AMD Ryzen 5 5600U",
                                 "AMD Ryzen 7 5800U", "Intel Core i3-1115G4", NULL};
const char *const demo_lens_mounts[] = {"Canon EF", "Nikon F", "Sony E", "Fujifilm X", "Micro Four Thirds", NULL};
const char *const demo_publishers[] = {"Penguin Books", "Vintage", "HarperCollins", "Faber & Faber", "Gallimard",
                                       "Suhrkamp", "Bloomsbury", NULL};
const char *const demo_subjects[] = {"Mathematics", "Physics", "Chemistry", "Biology", "Economics", "Law",
                                     "Computer science", "Medicine", NULL};
const char *const demo_sports[] = {"running", "cycling", "tennis", "football", "skiing", "yoga", "fitness",
                                   "hiking", "climbing", "swimming", NULL};
const char *const demo_generic_words[] = {"standard", "classic", "original", "other", NULL};
const char *const demo_generic_titles[] = {
    "{cond}{model}",
    "{model} in great shape",
    "{model}, barely used",
    NULL,
};
const char *const demo_generic_details[] = {
    "Works as it should.",
    "Selling because I no longer need it.",
    "More photos on request.",
    NULL,
};

/* ---- people ------------------------------------------------------------------------------ */

const char *const demo_first_names[] = {
    "Anna", "Lukas", "Sophie", "Jonas", "Marie", "Felix", "Emma", "Leon", "Camille", "Louis", "Chloé", "Hugo",
    "Lucía", "Pablo", "Carmen", "Javier", "Giulia", "Marco", "Francesca", "Luca", "Inês", "João", "Sanne",
    "Daan", "Lotte", "Ruben", "Olivia", "James", "Charlotte", "Oliver", "Aoife", "Seán", "Zofia", "Jakub",
    "Katarzyna", "Piotr", "Elsa", "Erik", "Astrid", "Nils", "Aino", "Mikko", "Eleni", "Nikos", "Lea", "Noah",
    "Mia", "Elias", "Sara", "David", NULL,
};
const char *const demo_last_names[] = {
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Martin", "Bernard", "Dubois", "Laurent", "García",
    "Fernández", "López", "Martínez", "Rossi", "Russo", "Ferrari", "Bianchi", "Silva", "Santos", "de Vries",
    "Jansen", "Bakker", "Peeters", "Smith", "Jones", "Taylor", "Brown", "Murphy", "Kelly", "Nowak",
    "Kowalski", "Wiśniewski", "Andersson", "Johansson", "Lindqvist", "Virtanen", "Korhonen", "Papadopoulos",
    "Huber", "Gruber", "Meier", "Keller", NULL,
};
const char *const demo_shop_names[] = {
    "{city} Vintage",
    "{first}'s Corner",
    "Retro {last}",
    "{first} & Co.",
    "Second Life {city}",
    "The {city} Attic",
    NULL,
};
const char *const demo_bios[] = {
    "I sell things I no longer use. Everything is described honestly.",
    "Decluttering my flat in {city}. Quick replies, careful packing.",
    "Small second-hand shop in {city}. Pick-up or shipping, whatever suits you.",
    "Parent of two, selling what the kids have outgrown (and some of my own stuff).",
    "Photography and cycling nerd based in {city}.",
    "Moving abroad soon, so everything must go!",
    "Buying, fixing and reselling electronics since 2015.",
    "Books, games and good vibes. Based in {city}.",
    "{first} here: I answer messages in the evening, usually within a day.",
    "Careful packer. Every item checked before it ships.",
    NULL,
};

/* ---- description building blocks ---------------------------------------------------------- */

static const char *const pfx_new[] = {"New ", "Sealed ", "Brand new ", "Unused ", NULL};
static const char *const pfx_like_new[] = {"Like new ", "Mint ", "As new ", "", NULL};
static const char *const pfx_good[] = {"", "", "Great ", "Well kept ", NULL};
static const char *const pfx_fair[] = {"", "Used ", "Well-loved ", NULL};
static const char *const pfx_poor[] = {"For parts: ", "Worn ", "Faulty ", NULL};
const char *const *const demo_cond_prefixes[5] = {pfx_new, pfx_like_new, pfx_good, pfx_fair, pfx_poor};

static const char *const open_new[] = {
    "Brand new, never used, still in the original packaging.",
    "New and unopened: it was a gift I never got round to using.",
    "Bought it new and never used it.",
    NULL,
};
static const char *const open_like_new[] = {
    "In like-new condition, used only a handful of times.",
    "Barely used and looks as good as new.",
    "Practically new, no visible signs of use.",
    NULL,
};
static const char *const open_good[] = {
    "In good condition with light signs of use.",
    "Well looked after, works perfectly.",
    "Used but in good shape, see the photos.",
    NULL,
};
static const char *const open_fair[] = {
    "In fair condition: visible wear, but fully functional.",
    "Has some scratches and marks, everything still works.",
    "Shows its age, priced accordingly.",
    NULL,
};
static const char *const open_poor[] = {
    "Sold as is, for parts or repair.",
    "Heavily used and needs some work.",
    "Not fully working, read the description before buying.",
    NULL,
};
const char *const *const demo_cond_openings[5] = {open_new, open_like_new, open_good, open_fair, open_poor};

const char *const demo_shipping[] = {
    "Pick-up in {city} or shipping at the buyer's cost.",
    "I can post it anywhere in {country_name}, or you can collect it in {city}.",
    "Shipped within two days of payment, well packed.",
    "Collection in {city} preferred, shipping possible.",
    NULL,
};
const char *const demo_collection[] = {
    "Collection only from {city}.",
    "Pick-up only, in {city}; I can help carry it down.",
    "Too big to ship: collection in {city}.",
    NULL,
};
const char *const demo_closings[] = {
    "Price is firm.",
    "Open to reasonable offers.",
    "Message me with any questions.",
    "No returns, but ask me anything before you buy.",
    "Smoke-free home.",
    "",
    NULL,
};
