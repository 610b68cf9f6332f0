"""Identity and access management: sub-accounts, key pairs, temporary credentials, CAM-style
policies. ``store`` keeps them in the metadata database, ``crypto`` protects secrets at rest,
``policy`` parses and evaluates policy documents."""
