//! The AWS Regions snowcdk knows, with their Availability Zone counts: a stage names one of them,
//! and its `network.az_count` cannot exceed the region's zones (the template picks zones with
//! `Fn::Select [i, Fn::GetAZs ""]`, which fails at deploy time past the last one).
//!
//! Source: "AWS Regions and Availability Zones" in the AWS Global Infrastructure documentation,
//! <https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html> and
//! <https://aws.amazon.com/about-aws/global-infrastructure/regions_az/> (the zone counts listed
//! there, December 2025). In a few older regions (us-east-1, us-west-1, ap-northeast-1) an
//! account may be given fewer zones than the region has; `aws ec2 describe-availability-zones`
//! shows an account's own. When AWS opens a region, add its line here.

/// `(region code, Availability Zones)`, sorted by code.
pub const REGIONS: &[(&str, u8)] = &[
    ("af-south-1", 3),
    ("ap-east-1", 3),
    ("ap-east-2", 3),
    ("ap-northeast-1", 4),
    ("ap-northeast-2", 4),
    ("ap-northeast-3", 3),
    ("ap-south-1", 3),
    ("ap-south-2", 3),
    ("ap-southeast-1", 3),
    ("ap-southeast-2", 3),
    ("ap-southeast-3", 3),
    ("ap-southeast-4", 3),
    ("ap-southeast-5", 3),
    ("ap-southeast-6", 3),
    ("ap-southeast-7", 3),
    ("ca-central-1", 3),
    ("ca-west-1", 3),
    ("cn-north-1", 3),
    ("cn-northwest-1", 3),
    ("eu-central-1", 3),
    ("eu-central-2", 3),
    ("eu-north-1", 3),
    ("eu-south-1", 3),
    ("eu-south-2", 3),
    ("eu-west-1", 3),
    ("eu-west-2", 3),
    ("eu-west-3", 3),
    ("il-central-1", 3),
    ("me-central-1", 3),
    ("me-south-1", 3),
    ("mx-central-1", 3),
    ("sa-east-1", 3),
    ("us-east-1", 6),
    ("us-east-2", 3),
    ("us-gov-east-1", 3),
    ("us-gov-west-1", 3),
    ("us-west-1", 3),
    ("us-west-2", 4),
];

/// The number of Availability Zones of a known region; `None` for a name not in [`REGIONS`].
pub fn availability_zones(region: &str) -> Option<u8> {
    REGIONS
        .binary_search_by(|(code, _)| (*code).cmp(region))
        .ok()
        .map(|i| REGIONS[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_answers() {
        assert!(
            REGIONS.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted, no duplicates"
        );
        assert_eq!(availability_zones("us-west-2"), Some(4));
        assert_eq!(availability_zones("us-east-1"), Some(6));
        assert_eq!(availability_zones("us-west-9"), None);
        assert_eq!(availability_zones("US-WEST-2"), None);
    }
}
