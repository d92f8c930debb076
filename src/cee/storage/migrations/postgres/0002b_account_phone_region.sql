-- Each account may read mobile numbers without a country code in a region of its own (Admin →
-- Account Configuration); NULL: the deployment's phone_region setting.

ALTER TABLE accounts ADD COLUMN phone_region TEXT;
