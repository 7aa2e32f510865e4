package jdcloud

import (
	"context"
	"net/http"
)

var (
	opDescribeVpcs    = operation{OpDescribeVpcs, "vpc", http.MethodGet, true}
	opDescribeSubnets = operation{OpDescribeSubnets, "vpc", http.MethodGet, true}
)

// Vpc is a VPC as describeVpcs returns it (docs/jdcloud.md, VPCs and subnets).
type Vpc struct {
	VpcID         string   `json:"vpcId"`
	VpcName       string   `json:"vpcName"`
	AddressPrefix string   `json:"addressPrefix,omitempty"`
	Description   string   `json:"description,omitempty"`
	ACLIDs        []string `json:"aclIds,omitempty"`
	RouteTableIDs []string `json:"routeTableIds,omitempty"`
	Subnets       []Subnet `json:"subnets,omitempty"`
	CreatedTime   string   `json:"createdTime,omitempty"`
	Tags          []Tag    `json:"tags,omitempty"`
}

// Subnet is a subnet as describeSubnets returns it (docs/jdcloud.md, VPCs and subnets).
type Subnet struct {
	SubnetID         string `json:"subnetId"`
	SubnetName       string `json:"subnetName"`
	VpcID            string `json:"vpcId"`
	AddressPrefix    string `json:"addressPrefix,omitempty"`
	AvailableIPCount int    `json:"availableIpCount"`
	IPMaskLen        int    `json:"ipMaskLen,omitempty"`
	Description      string `json:"description,omitempty"`
	RouteTableID     string `json:"routeTableId,omitempty"`
	ACLID            string `json:"aclId,omitempty"`
	StartIP          string `json:"startIp,omitempty"`
	EndIP            string `json:"endIp,omitempty"`
	CreatedTime      string `json:"createdTime,omitempty"`
	SubnetType       string `json:"subnetType,omitempty"` // standard, edge
	Az               string `json:"az,omitempty"`
	Tags             []Tag  `json:"tags,omitempty"`
}

// DescribeVpcsQuery selects VPCs. Filters: vpcIds, vpcNames (multi-valued), azType, azs.
type DescribeVpcsQuery struct {
	PageNumber int // 1-based; 0 means JD Cloud's default, 1
	PageSize   int // 10–100; 0 means JD Cloud's default, 20
	Filters    []Filter
}

// DescribeVpcs lists one page of the region's VPCs (GET /v1/regions/{regionId}/vpcs/, with
// the trailing slash). Errors as DescribeInstances.
func (c *Client) DescribeVpcs(ctx context.Context, region string, q DescribeVpcsQuery) (Page[Vpc], error) {
	query := appendPaging(nil, q.PageNumber, q.PageSize)
	query = appendFilters(query, q.Filters)
	var res struct {
		Vpcs       []Vpc `json:"vpcs"`
		TotalCount int   `json:"totalCount"`
	}
	// The empty last segment is the trailing slash VPC list paths carry.
	err := c.call(ctx, opDescribeVpcs, region, []string{"", "v1", "regions", region, "vpcs", ""}, query, nil, &res)
	if err != nil {
		return Page[Vpc]{}, err
	}
	return Page[Vpc]{Items: res.Vpcs, TotalCount: res.TotalCount, PageNumber: q.PageNumber, PageSize: q.PageSize}, nil
}

// AllVpcs pages through DescribeVpcs (100 a page). Errors as DescribeInstances, wrapped with
// the page number.
func (c *Client) AllVpcs(ctx context.Context, region string, q DescribeVpcsQuery) ([]Vpc, error) {
	return collectAll(ctx, func(ctx context.Context, n int) (Page[Vpc], error) {
		q.PageNumber, q.PageSize = n, 100
		return c.DescribeVpcs(ctx, region, q)
	})
}

// DescribeSubnetsQuery selects subnets. VpcID, when set, is sent as the single-valued vpcId
// filter (the subnets of one VPC). Other filters: subnetIds, subnetNames (multi-valued),
// routeTableId, aclId, subnetType, azs.
type DescribeSubnetsQuery struct {
	PageNumber int // 1-based; 0 means JD Cloud's default, 1
	PageSize   int // 10–100; 0 means JD Cloud's default, 20
	VpcID      string
	Filters    []Filter
}

// DescribeSubnets lists one page of the region's subnets (GET /v1/regions/{regionId}/subnets/,
// with the trailing slash). Errors as DescribeInstances.
func (c *Client) DescribeSubnets(ctx context.Context, region string, q DescribeSubnetsQuery) (Page[Subnet], error) {
	filters := q.Filters
	if q.VpcID != "" {
		filters = append([]Filter{{Name: "vpcId", Values: []string{q.VpcID}}}, filters...)
	}
	query := appendPaging(nil, q.PageNumber, q.PageSize)
	query = appendFilters(query, filters)
	var res struct {
		Subnets    []Subnet `json:"subnets"`
		TotalCount int      `json:"totalCount"`
	}
	err := c.call(ctx, opDescribeSubnets, region, []string{"", "v1", "regions", region, "subnets", ""}, query, nil, &res)
	if err != nil {
		return Page[Subnet]{}, err
	}
	return Page[Subnet]{Items: res.Subnets, TotalCount: res.TotalCount, PageNumber: q.PageNumber, PageSize: q.PageSize}, nil
}

// AllSubnets pages through DescribeSubnets (100 a page). Errors as DescribeInstances, wrapped
// with the page number.
func (c *Client) AllSubnets(ctx context.Context, region string, q DescribeSubnetsQuery) ([]Subnet, error) {
	return collectAll(ctx, func(ctx context.Context, n int) (Page[Subnet], error) {
		q.PageNumber, q.PageSize = n, 100
		return c.DescribeSubnets(ctx, region, q)
	})
}
